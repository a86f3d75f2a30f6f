using System.Text;
using ModelContextProtocol.Protocol;
using Sandbox.Core.Artifacts;
using Sandbox.Core.Runs;
using Sandbox.Server.Output;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Mcp;

/// <summary>
/// A run's artifacts as MCP content blocks: images as image content, text and other files as embedded resources, within a
/// budget of bytes per result; past it, and for bytes the gateway cannot fetch, a resource link naming the file.
/// </summary>
/// <remarks>
/// Text goes to the model, and the program wrote it: it is embedded only when both the result's media type and a sniff of
/// the bytes in hand say text, and then through <see cref="OutputSanitizer"/> (the one used for stdout) within
/// <see cref="TextBudget"/>, so escapes, C1 controls, a lone <c>\r</c> and hidden characters never reach the model as they are.
/// When that changed the text, a resource link to the exact bytes follows it.
/// </remarks>
internal static class ArtifactBlocks
{
    /// <summary>Bytes embedded in one tool result at most: a model's context and the JSON-RPC line (base64 adds a third) stay bounded.</summary>
    public const long Budget = 2L * 1024 * 1024;

    /// <summary>UTF-8 bytes of one text artifact given to the model at most (head and tail kept, as for stdout); the link has the rest.</summary>
    public const int TextBudget = 64 * 1024;

    public static async Task<IReadOnlyList<ContentBlock>> ForAsync(GatewayResult answer, IRunGateway gateway, CancellationToken cancellationToken)
    {
        if (answer.Run?.Result is not { Artifacts: { Count: > 0 } artifacts } result)
        {
            return [];
        }

        var blocks = new List<ContentBlock>();
        var used = 0L;
        foreach (var artifact in artifacts)
        {
            var uri = Uri(result.RunId, artifact.Path);
            ReadOnlyMemory<byte>? bytes = null;
            if (used + artifact.SizeBytes <= Budget)
            {
                bytes = artifact.Content.Length == artifact.SizeBytes ? artifact.Content : await gateway.GetArtifactAsync(result.RunId, artifact.Path, cancellationToken);
            }

            if (bytes is not { } content || content.Length != artifact.SizeBytes)
            {
                blocks.Add(new ResourceLinkBlock { Uri = uri, Name = artifact.Path, MimeType = artifact.MediaType, Size = artifact.SizeBytes });
                continue;
            }

            used += content.Length;
            if (MediaTypes.IsInlineImage(artifact.MediaType))
            {
                blocks.Add(ImageContentBlock.FromBytes(content, artifact.MediaType));
            }
            else if (MediaTypes.IsText(artifact.MediaType) && MediaTypes.IsText(MediaTypes.Sniff(artifact.Path, content.Span)))
            {
                // Sniffed again here: over a remote gateway the media type came from another process, the bytes from the program.
                var text = OutputSanitizer.Sanitize(content.Span, content.Length, TextBudget);
                blocks.Add(new EmbeddedResourceBlock { Resource = new TextResourceContents { Uri = uri, MimeType = artifact.MediaType, Text = text } });
                if (!Encoding.UTF8.GetBytes(text).AsSpan().SequenceEqual(content.Span))
                {
                    blocks.Add(new ResourceLinkBlock { Uri = uri, Name = artifact.Path, MimeType = artifact.MediaType, Size = artifact.SizeBytes });
                }
            }
            else
            {
                // Not text by both accounts: bytes the model's client decodes deliberately, never text read as it is.
                blocks.Add(new EmbeddedResourceBlock { Resource = BlobResourceContents.FromBytes(content, uri, BlobType(artifact.MediaType)) });
            }
        }

        return blocks;
    }

    /// <summary>A text type whose bytes did not sniff as text is sent as what it is: unknown bytes.</summary>
    private static string BlobType(string mediaType) => MediaTypes.IsText(mediaType) ? MediaTypes.OctetStream : mediaType;

    /// <summary>The artifact's URI: the same run id and path as <c>GET /v1/runs/{id}/artifacts/{path}</c>, each segment escaped.</summary>
    private static string Uri(string runId, string path) =>
        $"sandbox://runs/{System.Uri.EscapeDataString(runId)}/artifacts/{string.Join('/', path.Split('/').Select(System.Uri.EscapeDataString))}";
}
