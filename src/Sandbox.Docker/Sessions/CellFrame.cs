using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Sandbox.Core.Runs;

namespace Sandbox.Docker.Sessions;

/// <summary>
/// One cell as the kernel reads it from stdin: <c>CELL &lt;length&gt;\n</c>, then that many bytes of JSON with the cell's
/// nonce, code, stdin and files (the Python and JavaScript kernels); or, for a shell that has no JSON parser, the same
/// fields each with its own length (<see cref="EncodeForShell"/>). Length-prefixed either way, so nothing in the code can
/// end it early.
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

    /// <summary>
    /// The frame for the bash kernel, which reads it with <c>read</c> and <c>head -c</c>: <c>CELL &lt;nonce&gt; &lt;outputs 0|1&gt;
    /// &lt;code length&gt; &lt;stdin length&gt; &lt;file count&gt;\n</c>, the code, the stdin, then per file <c>&lt;length&gt; &lt;path&gt;\n</c>
    /// and its content; lengths in bytes.
    /// </summary>
    public static byte[] EncodeForShell(string nonce, RunRequest request, bool outputs = false)
    {
        ArgumentNullException.ThrowIfNull(request);
        // bash drops NUL bytes when it sources a file, so dropping them here changes nothing the cell would run, and lets
        // the kernel read the code with `read -N`, which does not count them.
        var code = Encoding.UTF8.GetBytes(request.Code.Replace("\0", "", StringComparison.Ordinal));
        var stdin = Encoding.UTF8.GetBytes(request.Stdin ?? "");
        var files = request.Files ?? [];
        using var frame = new MemoryStream();
        frame.Write(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"CELL {nonce} {(outputs ? 1 : 0)} {code.Length} {stdin.Length} {files.Count}\n")));
        frame.Write(code);
        frame.Write(stdin);
        foreach (var file in files)
        {
            if (file.Path.Any(char.IsControl))
            {
                // Defence in depth (paths were validated): a newline in a path would desynchronise the frames.
                throw new ArgumentException($"file path '{file.Path}' contains a control character", nameof(request));
            }

            var content = Encoding.UTF8.GetBytes(file.Content);
            frame.Write(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{content.Length} {file.Path}\n")));
            frame.Write(content);
        }

        return frame.ToArray();
    }
}
