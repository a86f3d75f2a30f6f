using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Sandbox.Core.Text;

namespace Sandbox.Server.Output;

/// <summary>
/// Turns the bytes a program wrote into text fit for a model or a terminal: valid UTF-8, no escape
/// sequences, no characters that move the cursor or reorder text, no invisible characters, and at most a byte budget long.
/// </summary>
/// <remarks>
/// <para>
/// The program is hostile by assumption, so its output must not be able to drive the reader's terminal
/// (colours, titles, clipboard writes through OSC 52, cursor moves that overwrite earlier lines) or hide
/// text from a human who reviews what the model saw (Trojan Source bidi overrides), and it must not be able to
/// say to the model what the model's reader cannot see (instructions spelled in invisible tag characters).
/// The rules, in the order one pass applies them:
/// </para>
/// <list type="number">
/// <item>Invalid UTF-8 decodes lossily: each maximal invalid subsequence becomes U+FFFD, as <see cref="Encoding.UTF8"/> does.</item>
/// <item>Complete escape sequences are removed entirely (a model needs no colours): CSI (<c>ESC [</c> or U+009B,
/// parameters, a final byte), OSC (<c>ESC ]</c> or U+009D, ended by BEL or ST), DCS/SOS/PM/APC strings
/// (<c>ESC P</c>/<c>X</c>/<c>^</c>/<c>_</c> or U+0090/U+0098/U+009E/U+009F, ended by ST), nF sequences
/// (<c>ESC</c>, intermediates 0x20–0x2F, a final byte) and two-character <c>ESC</c> sequences.</item>
/// <item>An escape sequence that is malformed, or not terminated within <see cref="MaxCsiLength"/> /
/// <see cref="MaxStringLength"/> characters, is not removed: only its introducer is replaced, and the rest
/// stays visible as text. So an unterminated OSC never swallows the output after it, and the scan stays linear.</item>
/// <item><c>\r\n</c> becomes <c>\n</c>.</item>
/// <item>Every other character we neutralise becomes U+FFFD, one for one: a lone <c>\r</c> (it would let a line
/// overwrite itself), backspace, BEL, NUL, the other C0 controls, DEL and the C1 controls U+0080–U+009F.
/// U+FFFD rather than deletion so the reader sees that something was there; <c>\n</c> and <c>\t</c> are kept.</item>
/// <item>Every hidden character (<see cref="DisplayText.IsHidden"/>: format characters such as zero-width
/// spaces and joiners, LRM/RLM and the bidi embeddings, overrides and isolates; tag characters; the
/// variation selectors supplement) becomes its code point written out, <c>&lt;U+200B&gt;</c>, so the model
/// and a human reading the same text see the same thing, and see which character it was.</item>
/// <item>If the result exceeds the budget, the head and the tail are kept (about half each, cut at a newline
/// when one is near) around a marker line that states exactly how many of the program's bytes were left out.
/// When the backend's output cap cut the output off, a last marker line says how many bytes it discarded.</item>
/// </list>
/// <para>Byte counts in markers are bytes of the program's raw output, so head + omitted + tail = <c>kept.Length</c>.</para>
/// </remarks>
internal static class OutputSanitizer
{
    /// <summary>What every neutralised character becomes.</summary>
    public const char Replacement = '\uFFFD';

    /// <summary>The longest CSI body (parameters and intermediates) we look through for a final byte.</summary>
    public const int MaxCsiLength = 256;

    /// <summary>The longest OSC/DCS/SOS/PM/APC body we look through for its terminator.</summary>
    public const int MaxStringLength = 4096;

    /// <summary>The farthest (in characters) from a cut we look for a newline to cut at instead.</summary>
    private const int NewlineSearchWindow = 256;

    /// <summary>The longest nF sequence: ESC, up to this many intermediates, a final byte.</summary>
    private const int MaxIntermediates = 8;

    /// <summary>The most chars one input byte can yield: a 2-byte hidden character written out as <c>&lt;U+XXXX&gt;</c>.</summary>
    private const int MaxCharsPerByte = 4;

    private const byte Esc = 0x1B;
    private const byte Bel = 0x07;

    /// <summary>
    /// The sanitised text of <paramref name="kept"/>, at most <paramref name="maxBytes"/> bytes of UTF-8 (markers
    /// included) unless the budget cannot even hold the markers.
    /// </summary>
    /// <param name="kept">The bytes the backend kept.</param>
    /// <param name="totalBytes">How many bytes the program wrote in all; more than <c>kept.Length</c> when the output cap cut it off.</param>
    /// <param name="maxBytes">The presentation budget in UTF-8 bytes.</param>
    public static string Sanitize(ReadOnlySpan<byte> kept, long totalBytes, int maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalBytes, kept.Length);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);

        var capMarker = totalBytes > kept.Length ? CapMarker(totalBytes - kept.Length) : null;
        if (kept.IsEmpty)
        {
            return capMarker ?? string.Empty;
        }

        // Each input byte yields at most MaxCharsPerByte output chars (a hidden character of 2 bytes, U+00AD, becomes the 8 of "<U+00AD>").
        var capacity = checked(kept.Length * MaxCharsPerByte);
        var chars = ArrayPool<char>.Shared.Rent(capacity);
        var sources = ArrayPool<int>.Shared.Rent(capacity + 1);
        try
        {
            var count = Neutralise(kept, chars, sources);
            sources[count] = kept.Length;
            return Fit(new ReadOnlySpan<char>(chars, 0, count), new ReadOnlySpan<int>(sources, 0, count + 1), kept.Length, capMarker, maxBytes);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
            ArrayPool<int>.Shared.Return(sources);
        }
    }

    /// <summary>The line that says the output cap discarded <paramref name="discarded"/> bytes.</summary>
    internal static string CapMarker(long discarded) =>
        string.Create(CultureInfo.InvariantCulture, $"[... output cap reached: {discarded} more bytes were discarded]");

    /// <summary>The line that stands for <paramref name="omitted"/> bytes left out of the middle.</summary>
    internal static string OmittedMarker(long omitted) =>
        string.Create(CultureInfo.InvariantCulture, $"[... {omitted} bytes omitted ...]");

    /// <summary>
    /// One pass over <paramref name="input"/>: writes the neutralised text to <paramref name="chars"/> and, for each
    /// char, the offset in <paramref name="input"/> where the element that produced it starts; returns the char count.
    /// </summary>
    private static int Neutralise(ReadOnlySpan<byte> input, Span<char> chars, Span<int> sources)
    {
        var count = 0;
        var i = 0;
        while (i < input.Length)
        {
            var b = input[i];
            if (b is >= 0x20 and < 0x7F or (byte)'\n' or (byte)'\t')
            {
                // The common case: printable ASCII, newline and tab pass through.
                sources[count] = i;
                chars[count++] = (char)b;
                i++;
                continue;
            }

            if (b == (byte)'\r' && i + 1 < input.Length && input[i + 1] == (byte)'\n')
            {
                sources[count] = i;
                chars[count++] = '\n';
                i += 2;
                continue;
            }

            if (b == Esc)
            {
                var end = EscapeEnd(input, i + 1);
                if (end > 0)
                {
                    i = end;
                    continue;
                }

                sources[count] = i;
                chars[count++] = Replacement;
                i++;
                continue;
            }

            if (b < 0x80)
            {
                // The other C0 controls (a lone \r included) and DEL.
                sources[count] = i;
                chars[count++] = Replacement;
                i++;
                continue;
            }

            // Rune.DecodeFromUtf8 consumes a maximal invalid subsequence as one U+FFFD, like Encoding.UTF8.
            Rune.DecodeFromUtf8(input[i..], out var rune, out var consumed);
            var value = rune.Value;
            if (value is >= 0x80 and <= 0x9F)
            {
                var end = value switch
                {
                    0x9B => CsiEnd(input, i + consumed),
                    0x9D => StringEnd(input, i + consumed, allowBel: true),
                    0x90 or 0x98 or 0x9E or 0x9F => StringEnd(input, i + consumed, allowBel: false),
                    _ => -1,
                };
                if (end > 0)
                {
                    i = end;
                    continue;
                }

                sources[count] = i;
                chars[count++] = Replacement;
                i += consumed;
                continue;
            }

            if (DisplayText.IsHidden(rune))
            {
                // Shown, not dropped: bidi controls make a reviewer read text in another order than the model did,
                // and invisible characters (tags above all) can carry instructions only the model reads.
                var shown = Visible(rune, chars[count..]);
                sources.Slice(count, shown).Fill(i);
                count += shown;
                i += consumed;
                continue;
            }

            var written = rune.EncodeToUtf16(chars[count..]);
            for (var k = 0; k < written; k++)
            {
                sources[count + k] = i;
            }

            count += written;
            i += consumed;
        }

        return count;
    }

    /// <summary>Writes <c>&lt;U+XXXX&gt;</c> (four to six hex digits) for <paramref name="rune"/>; returns the char count.</summary>
    private static int Visible(Rune rune, Span<char> destination)
    {
        destination[0] = '<';
        destination[1] = 'U';
        destination[2] = '+';
        var ok = rune.Value.TryFormat(destination[3..], out var digits, "X4", CultureInfo.InvariantCulture);
        Debug.Assert(ok, "the buffer holds MaxCharsPerByte chars per input byte");
        destination[3 + digits] = '>';
        return digits + 4;
    }

    /// <summary>Where the escape sequence whose ESC is just before <paramref name="p"/> ends, or -1 if it is not one we remove.</summary>
    private static int EscapeEnd(ReadOnlySpan<byte> input, int p)
    {
        if (p >= input.Length)
        {
            return -1;
        }

        var b = input[p];
        switch (b)
        {
            case (byte)'[':
                return CsiEnd(input, p + 1);
            case (byte)']':
                return StringEnd(input, p + 1, allowBel: true);
            case (byte)'P' or (byte)'X' or (byte)'^' or (byte)'_':
                return StringEnd(input, p + 1, allowBel: false);
            case >= 0x20 and <= 0x2F:
                // nF: intermediates, then a final byte (ESC ( B selects a character set, ESC # 8 fills the screen).
                var limit = Math.Min(input.Length, p + MaxIntermediates);
                var q = p;
                while (q < limit && input[q] is >= 0x20 and <= 0x2F)
                {
                    q++;
                }

                return q < input.Length && input[q] is >= 0x30 and <= 0x7E ? q + 1 : -1;
            case >= 0x30 and <= 0x7E:
                // Two characters: ESC 7, ESC c (reset), ESC M (reverse index) and the like.
                return p + 1;
            default:
                return -1;
        }
    }

    /// <summary>Where a CSI whose body starts at <paramref name="p"/> ends (after its final byte), or -1.</summary>
    private static int CsiEnd(ReadOnlySpan<byte> input, int p)
    {
        // Parameters (0x30–0x3F) and intermediates (0x20–0x2F), then a final byte 0x40–0x7E. Anything else
        // (a control, a non-ASCII byte, the end, too long a body) makes it malformed and it stays visible.
        var limit = Math.Min(input.Length, p + MaxCsiLength);
        var q = p;
        while (q < limit && input[q] is >= 0x20 and <= 0x3F)
        {
            q++;
        }

        return q < input.Length && input[q] is >= 0x40 and <= 0x7E ? q + 1 : -1;
    }

    /// <summary>
    /// Where a control string (OSC, DCS, SOS, PM, APC) whose body starts at <paramref name="p"/> ends, after
    /// its terminator: ST (<c>ESC \</c> or U+009C), or BEL for OSC as xterm accepts. -1 when no terminator
    /// comes within <see cref="MaxStringLength"/> bytes or another ESC starts first (a terminal would abort
    /// the string there), so the scan never passes the next ESC and stays linear over the whole input.
    /// </summary>
    private static int StringEnd(ReadOnlySpan<byte> input, int p, bool allowBel)
    {
        var limit = Math.Min(input.Length, p + MaxStringLength);
        for (var q = p; q < limit; q++)
        {
            switch (input[q])
            {
                case Bel when allowBel:
                    return q + 1;
                case Esc:
                    return q + 1 < input.Length && input[q + 1] == (byte)'\\' ? q + 2 : -1;
                case 0xC2 when q + 1 < input.Length && input[q + 1] == 0x9C:
                    return q + 2;
            }
        }

        return -1;
    }

    /// <summary>The neutralised text within the budget: whole, or head + omitted marker + tail; then the cap marker.</summary>
    private static string Fit(ReadOnlySpan<char> text, ReadOnlySpan<int> sources, int keptLength, string? capMarker, int maxBytes)
    {
        var capPart = capMarker is null ? 0 : capMarker.Length + 1; // markers are ASCII; +1 for a newline before
        var textBytes = Encoding.UTF8.GetByteCount(text);
        if ((long)textBytes + capPart <= maxBytes)
        {
            return capMarker is null ? text.ToString() : AppendLine(text.ToString(), capMarker);
        }

        // The omitted marker with the most digits it could need, plus a newline on each side.
        var middlePart = OmittedMarker(keptLength).Length + 2;
        var budget = Math.Max(0, maxBytes - capPart - middlePart);
        var headBudget = budget / 2;
        var tailBudget = budget - headBudget;

        var headEnd = PrefixWithin(text, headBudget);
        var tailStart = SuffixWithin(text, tailBudget);
        if (tailStart < headEnd)
        {
            tailStart = headEnd;
        }

        if (tailStart == headEnd)
        {
            // Nothing to cut: the budget cannot even hold the markers, so the text goes out whole rather than as "0 bytes omitted".
            return capMarker is null ? text.ToString() : AppendLine(text.ToString(), capMarker);
        }

        // Cutting at a newline near the boundary keeps whole lines; the window is small next to each half, so little budget goes unused.
        var window = Math.Min(NewlineSearchWindow, Math.Max(1, headBudget / 4));
        headEnd = PreferNewlineBefore(text, headEnd, window);
        tailStart = PreferNewlineAfter(text, tailStart, window);

        var omitted = sources[tailStart] - sources[headEnd];
        var builder = new StringBuilder(maxBytes > 0 ? Math.Min(maxBytes, text.Length + middlePart + capPart) : 16);
        builder.Append(text[..headEnd]);
        if (headEnd > 0 && text[headEnd - 1] != '\n')
        {
            builder.Append('\n');
        }

        builder.Append(OmittedMarker(omitted)).Append('\n');
        builder.Append(text[tailStart..]);
        var result = builder.ToString();
        return capMarker is null ? result : AppendLine(result, capMarker);
    }

    private static string AppendLine(string text, string line) =>
        text.Length == 0 || text[^1] == '\n' ? text + line : text + "\n" + line;

    /// <summary>The largest char count whose UTF-8 fits <paramref name="budget"/>, never splitting a surrogate pair.</summary>
    private static int PrefixWithin(ReadOnlySpan<char> text, int budget)
    {
        var bytes = 0;
        var i = 0;
        while (i < text.Length)
        {
            var width = Utf8Width(text, i, out var chars);
            if (bytes + width > budget)
            {
                break;
            }

            bytes += width;
            i += chars;
        }

        return i;
    }

    /// <summary>The smallest start index whose suffix's UTF-8 fits <paramref name="budget"/>, never splitting a surrogate pair.</summary>
    private static int SuffixWithin(ReadOnlySpan<char> text, int budget)
    {
        var bytes = 0;
        var i = text.Length;
        while (i > 0)
        {
            var start = i >= 2 && char.IsLowSurrogate(text[i - 1]) && char.IsHighSurrogate(text[i - 2]) ? i - 2 : i - 1;
            var width = Utf8Width(text, start, out _);
            if (bytes + width > budget)
            {
                break;
            }

            bytes += width;
            i = start;
        }

        return i;
    }

    /// <summary>The UTF-8 width of the scalar at <paramref name="i"/> and how many chars it spans.</summary>
    private static int Utf8Width(ReadOnlySpan<char> text, int i, out int chars)
    {
        var c = text[i];
        if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
        {
            chars = 2;
            return 4;
        }

        chars = 1;
        return c switch
        {
            < '\u0080' => 1,
            < '\u0800' => 2,
            _ => 3, // lone surrogates cannot occur: the text came from decoding, which never yields one
        };
    }

    /// <summary>A head end just after a newline a little before <paramref name="end"/>, if there is one; cutting less is always within budget.</summary>
    private static int PreferNewlineBefore(ReadOnlySpan<char> text, int end, int window)
    {
        if (end == 0 || text[end - 1] == '\n')
        {
            return end;
        }

        var from = Math.Max(0, end - window);
        var newline = text[from..end].LastIndexOf('\n');
        return newline < 0 ? end : from + newline + 1;
    }

    /// <summary>A tail start just after a newline a little after <paramref name="start"/>, if there is one; keeping less is always within budget.</summary>
    private static int PreferNewlineAfter(ReadOnlySpan<char> text, int start, int window)
    {
        if (start == 0 || start == text.Length || text[start - 1] == '\n')
        {
            return start;
        }

        var to = Math.Min(text.Length, start + window);
        var newline = text[start..to].IndexOf('\n');
        return newline < 0 || start + newline + 1 == text.Length ? start : start + newline + 1;
    }
}
