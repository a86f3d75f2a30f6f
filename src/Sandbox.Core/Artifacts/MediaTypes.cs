
namespace Sandbox.Core.Artifacts;

/// <summary>
/// The media type of an artifact, sniffed from its bytes and allow-listed. The program chose the bytes and the name, so
/// neither is believed on its own: a name only refines a type the bytes already prove (a <c>.csv</c> of valid UTF-8 text),
/// and markup of any kind (HTML, SVG, XML) is never given a type a browser would render.
/// </summary>
public static class MediaTypes
{
    public const string OctetStream = "application/octet-stream";
    public const string Png = "image/png";
    public const string Jpeg = "image/jpeg";
    public const string Gif = "image/gif";
    public const string Pdf = "application/pdf";
    public const string PlainText = "text/plain";
    public const string Csv = "text/csv";
    public const string Json = "application/json";

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    // Names a browser or viewer would treat as active content even when the bytes look like plain text.
    private static readonly string[] s_activeExtensions = [".html", ".htm", ".xhtml", ".shtml", ".svg", ".svgz", ".xml", ".xsl", ".js", ".mjs", ".css", ".swf"];

    /// <summary>Whether a type is an image a client may show inline (PNG, JPEG, GIF: raster formats with no script).</summary>
    public static bool IsInlineImage(string mediaType) => mediaType is Png or Jpeg or Gif;

    /// <summary>Whether a type is UTF-8 text (served with <c>charset=utf-8</c>).</summary>
    public static bool IsText(string mediaType) => mediaType is PlainText or Csv or Json;

    /// <summary>The allow-listed type of <paramref name="content"/>; <see cref="OctetStream"/> for anything else.</summary>
    public static string Sniff(string path, ReadOnlySpan<byte> content)
    {
        if (content.StartsWith(PngSignature))
        {
            return Png;
        }

        if (content.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return Jpeg;
        }

        if (content.StartsWith("GIF87a"u8) || content.StartsWith("GIF89a"u8))
        {
            return Gif;
        }

        if (content.StartsWith("%PDF-"u8))
        {
            return Pdf;
        }

        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (s_activeExtensions.Contains(extension) || !IsPlainText(content) || LooksLikeMarkup(content))
        {
            // Markup served as anything a browser renders would run the program's script on our origin.
            return OctetStream;
        }

        return extension switch
        {
            ".csv" => Csv,
            ".json" => Json,
            _ => PlainText,
        };
    }

    /// <summary>Valid UTF-8 with no control characters but tab, newline, carriage return and form feed.</summary>
    private static bool IsPlainText(ReadOnlySpan<byte> content)
    {
        if (!System.Text.Unicode.Utf8.IsValid(content))
        {
            return false;
        }

        foreach (var b in content)
        {
            if (b < 0x20 && b is not ((byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0C) || b == 0x7F)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Text whose first visible character opens a tag: what browsers' own sniffing would take for HTML or XML.</summary>
    private static bool LooksLikeMarkup(ReadOnlySpan<byte> content)
    {
        var text = content.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? content[3..] : content;
        var start = text.IndexOfAnyExcept(" \t\r\n\f"u8);
        return start >= 0 && text[start] == (byte)'<';
    }
}
