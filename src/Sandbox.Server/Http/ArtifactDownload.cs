using Microsoft.AspNetCore.Http;
using Sandbox.Core.Runs;

namespace Sandbox.Server.Http;

/// <summary>
/// One file a run returned, served as a download: to its agent (<c>GET /v1/runs/{id}/artifacts/{path}</c>) and to the
/// operator's console alike. Its name and bytes are the program's, so nothing in them may become a page of this origin.
/// </summary>
internal static class ArtifactDownload
{
    public static IResult Serve(HttpContext context, RunArtifact artifact)
    {
        var headers = context.Response.Headers;
        // The type is the sniffed, allow-listed one; nosniff keeps a browser from guessing another (script, markup).
        headers.XContentTypeOptions = "nosniff";
        // Opened directly, the file is a sandboxed document that may load and run nothing.
        headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        headers.ContentDisposition = new Microsoft.Net.Http.Headers.ContentDispositionHeaderValue(
            Core.Artifacts.MediaTypes.IsInlineImage(artifact.MediaType) ? "inline" : "attachment")
        {
            // filename* (RFC 5987) carries any name safely; the plain filename is ASCII-only with quotes and controls removed.
            FileNameStar = Path.GetFileName(artifact.Path),
            FileName = AsciiFileName(Path.GetFileName(artifact.Path)),
        }.ToString();
        headers.ETag = $"\"{artifact.Sha256}\"";
        var type = Core.Artifacts.MediaTypes.IsText(artifact.MediaType) ? artifact.MediaType + "; charset=utf-8" : artifact.MediaType;
        return TypedResults.Bytes(artifact.Content.ToArray(), type);
    }

    private static string AsciiFileName(string name)
    {
        var ascii = new string([.. name.Where(c => c is >= ' ' and < (char)0x7F and not '"' and not '\\')]);
        return ascii.Length > 0 ? ascii : "artifact";
    }
}
