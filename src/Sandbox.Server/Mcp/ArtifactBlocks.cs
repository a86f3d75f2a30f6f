using System.Text;
using ModelContextProtocol.Protocol;
using Sandbox.Core.Artifacts;
using Sandbox.Core.Runs;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Mcp;

/// <summary>
/// A run's artifacts as MCP content blocks: images as image content, text and other files as embedded resources, within a
/// budget of bytes per result; past it, and for bytes the gateway cannot fetch, a resource link naming the file.
/// </summary>
internal static class ArtifactBlocks
{
    /// <summary>Bytes embedded in one tool result at most: a model's context and the JSON-RPC line (base64 adds a third) stay bounded.</summary>
    public const long Budget = 2L * 1024 * 1024;

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
            blocks.Add(MediaTypes.IsInlineImage(artifact.MediaType) ? ImageContentBlock.FromBytes(content, artifact.MediaType)
                : MediaTypes.IsText(artifact.MediaType)
                    // Sniffed as UTF-8 with no control characters but whitespace, so it reads as text as it is.
                    ? new EmbeddedResourceBlock { Resource = new TextResourceContents { Uri = uri, MimeType = artifact.MediaType, Text = Encoding.UTF8.GetString(content.Span) } }
                    : new EmbeddedResourceBlock { Resource = BlobResourceContents.FromBytes(content, uri, artifact.MediaType) });
        }

        return blocks;
    }

    /// <summary>The artifact's URI: the same run id and path as <c>GET /v1/runs/{id}/artifacts/{path}</c>, each segment escaped.</summary>
    private static string Uri(string runId, string path) =>
        $"sandbox://runs/{System.Uri.EscapeDataString(runId)}/artifacts/{string.Join('/', path.Split('/').Select(System.Uri.EscapeDataString))}";
}
