using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Sandbox.Core.Runs;

namespace Sandbox.Docker.Sessions;

/// <summary>
/// One cell as the kernel reads it from stdin: <c>CELL &lt;length&gt;\n</c>, then that many bytes of JSON with the cell's
/// nonce, code, stdin and files. A length-prefixed frame, so nothing in the code can end it early.
/// </summary>
internal static class CellFrame
{
    /// <param name="nonce">The cell's nonce, for its end markers and (with <paramref name="outputs"/>) its outputs marker.</param>
    /// <param name="request">The cell's code, stdin and files.</param>
    /// <param name="outputs">Whether the kernel hands out <c>/tmp/outputs</c> after the cell (the profile returns artifacts).</param>
    public static byte[] Encode(string nonce, RunRequest request, bool outputs = false)
    {
        var json = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WriteString("nonce", nonce);
            writer.WriteString("code", request.Code);
            writer.WriteString("stdin", request.Stdin ?? "");
            writer.WriteBoolean("outputs", outputs);
            writer.WriteStartArray("files");
            foreach (var file in request.Files ?? [])
            {
                writer.WriteStartObject();
                writer.WriteString("path", file.Path);
                writer.WriteString("content", file.Content);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        var header = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"CELL {json.WrittenCount}\n"));
        return [.. header, .. json.WrittenSpan];
    }
}
