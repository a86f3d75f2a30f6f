using System.Globalization;
using System.Text;

namespace Sandbox.Cli.Commands;

/// <summary>
/// Text that came from an agent (code, purpose, audit data) made safe to print on an operator's
/// terminal. An approver must see exactly what they approve, so nothing in it may move the cursor,
/// rewrite a line or reorder what is displayed.
/// </summary>
internal static class TerminalText
{
    /// <summary>
    /// Replaces each control character (escape sequences, carriage returns, backspaces) and each Unicode
    /// bidirectional control (the "Trojan Source" reordering characters) with a visible
    /// <c>\u{XXXX}</c>. Newlines and tabs are kept only when <paramref name="multiline"/>.
    /// </summary>
    public static string Safe(string? text, bool multiline = false)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        StringBuilder? safe = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (IsHarmless(c, multiline))
            {
                safe?.Append(c);
                continue;
            }

            safe ??= new StringBuilder(text.Length + 16).Append(text, 0, i);
            safe.Append(CultureInfo.InvariantCulture, $"\\u{{{(int)c:X4}}}");
        }

        return safe?.ToString() ?? text;
    }

    /// <summary>A one-line preview: made safe, newlines shown as <c>⏎</c>, cut to <paramref name="max"/> characters.</summary>
    public static string Preview(string? text, int max)
    {
        var oneLine = Safe(text?.ReplaceLineEndings("⏎"));
        return oneLine.Length <= max ? oneLine : oneLine[..(max - 1)] + "…";
    }

    private static bool IsHarmless(char c, bool multiline) => c switch
    {
        '\n' or '\t' => multiline,

        // Bidirectional embeddings, overrides and isolates, and the implicit marks.
        '\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069') or '\u061C' => false,

        // Line and paragraph separators break a line on some terminals.
        '\u2028' or '\u2029' => false,
        _ => !char.IsControl(c),
    };
}
