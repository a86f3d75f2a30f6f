using System.Globalization;
using System.Text;

namespace Sandbox.Docker.Execution;

/// <summary>A file sent into the container through stdin.</summary>
public sealed record PayloadFile(string Path, ReadOnlyMemory<byte> Content, int Mode);

/// <summary>
/// Frames the program's files ahead of its stdin, in the format <c>images/base/sandbox-entry</c> reads.
/// The root filesystem is read-only and no host path is mounted, so stdin is the only way in:
/// <code>
/// SANDBOX-FILES 1\n
/// &lt;count&gt;\n
/// &lt;size&gt; &lt;octal mode&gt; &lt;relative path&gt;\n&lt;size raw bytes&gt;   (count times)
/// </code>
/// followed by the program's own stdin.
/// </summary>
public static class FilePayload
{
    public const string Magic = "SANDBOX-FILES 1";

    /// <summary>Writes the header and files. Paths must already be validated (relative, no control characters).</summary>
    public static byte[] Encode(IReadOnlyList<PayloadFile> files)
    {
        using var buffer = new MemoryStream();
        Write(buffer, $"{Magic}\n{files.Count.ToString(CultureInfo.InvariantCulture)}\n");
        foreach (var file in files)
        {
            if (file.Path.Any(char.IsControl))
            {
                // Defence in depth: a newline in a path would desynchronise the framing.
                throw new ArgumentException($"file path '{file.Path}' contains a control character", nameof(files));
            }

            Write(buffer, string.Create(CultureInfo.InvariantCulture, $"{file.Content.Length} {Convert.ToString(file.Mode, 8)} {file.Path}\n"));
            buffer.Write(file.Content.Span);
        }

        return buffer.ToArray();
    }

    private static void Write(MemoryStream stream, string text) => stream.Write(Encoding.UTF8.GetBytes(text));
}
