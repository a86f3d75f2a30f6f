using System.Globalization;
using System.Text;

namespace Sandbox.Core.Text;

/// <summary>
/// Which characters must not reach a reader as they are, and their visible escapes. One list, shared by
/// the text models see (the output sanitiser), the text approvers see (<c>sandbox approvals show</c>)
/// and the service's log lines, so a character hidden from one is hidden from none.
/// </summary>
public static class DisplayText
{
    /// <summary>
    /// True for a character that renders as nothing, or reorders or tags the text around it, so a reader
    /// cannot see that it is there: every format character (category Cf: soft hyphen, zero-width space,
    /// joiners, word joiner, BOM, the directional marks LRM/RLM/ALM and the bidi embeddings, overrides and
    /// isolates), the tag block U+E0000–U+E007F (assigned or not: "ASCII smuggling" spells hidden
    /// instructions in it) and the variation selectors supplement U+E0100–U+E01EF (invisible, and enough of
    /// them smuggle bytes the same way).
    /// </summary>
    /// <remarks>The ranges are also listed by value, so a character does not slip through on a runtime whose Unicode tables are older.</remarks>
    public static bool IsHidden(Rune rune) => rune.Value switch
    {
        0x00AD or 0x061C or 0x180E or 0xFEFF => true,
        >= 0x200B and <= 0x200F => true, // zero-width space, non-joiner, joiner; LRM, RLM
        >= 0x202A and <= 0x202E => true, // bidi embeddings and overrides
        >= 0x2060 and <= 0x206F => true, // word joiner, invisible operators, bidi isolates, deprecated format characters
        >= 0xE0000 and <= 0xE007F => true, // tags
        >= 0xE0100 and <= 0xE01EF => true, // variation selectors supplement
        _ => Rune.GetUnicodeCategory(rune) == UnicodeCategory.Format,
    };

    /// <summary>
    /// <paramref name="text"/> with every control character (C0, DEL, C1), every hidden character
    /// (<see cref="IsHidden"/>), the line and paragraph separators U+2028/U+2029 and every lone surrogate
    /// shown as <c>\u{XXXX}</c>; newlines and tabs too unless <paramref name="keepNewlinesAndTabs"/>.
    /// Nothing in the result can move a terminal's cursor, start a new line (when newlines are not kept),
    /// reorder what is displayed or hide a character. Returns <paramref name="text"/> itself when nothing
    /// needs escaping.
    /// </summary>
    public static string Escape(string text, bool keepNewlinesAndTabs)
    {
        ArgumentNullException.ThrowIfNull(text);
        StringBuilder? escaped = null;
        var i = 0;
        while (i < text.Length)
        {
            var status = Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var consumed);
            var value = status == System.Buffers.OperationStatus.Done ? rune.Value : text[i]; // a lone surrogate is shown by its own value
            if (status == System.Buffers.OperationStatus.Done && IsShownAsIs(rune, keepNewlinesAndTabs))
            {
                escaped?.Append(text, i, consumed);
                i += consumed;
                continue;
            }

            escaped ??= new StringBuilder(text.Length + 16).Append(text, 0, i);
            escaped.Append(CultureInfo.InvariantCulture, $"\\u{{{value:X4}}}");
            i += consumed;
        }

        return escaped?.ToString() ?? text;
    }

    private static bool IsShownAsIs(Rune rune, bool keepNewlinesAndTabs) => rune.Value switch
    {
        '\n' or '\t' => keepNewlinesAndTabs,

        // Line and paragraph separators break a line on some terminals and log viewers.
        0x2028 or 0x2029 => false,
        _ => !Rune.IsControl(rune) && !IsHidden(rune),
    };
}
