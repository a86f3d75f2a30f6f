using Sandbox.Core.Text;

namespace Sandbox.Cli.Commands;

/// <summary>
/// Text that came from an agent (code, purpose, audit data) made safe to print on an operator's
/// terminal. An approver must see exactly what they approve, so nothing in it may move the cursor,
/// rewrite a line, reorder what is displayed or hide a character.
/// </summary>
internal static class TerminalText
{
    /// <summary>
    /// Replaces each control character (escape sequences, carriage returns, backspaces), each Unicode
    /// bidirectional control (the "Trojan Source" reordering characters) and each invisible character
    /// (zero-width, tags, other format characters; see <see cref="DisplayText.IsHidden"/>) with a visible
    /// <c>\u{XXXX}</c>. Newlines and tabs are kept only when <paramref name="multiline"/>.
    /// </summary>
    public static string Safe(string? text, bool multiline = false) =>
        string.IsNullOrEmpty(text) ? "" : DisplayText.Escape(text, keepNewlinesAndTabs: multiline);

    /// <summary>A one-line preview: made safe, newlines shown as <c>⏎</c>, cut to <paramref name="max"/> characters.</summary>
    public static string Preview(string? text, int max)
    {
        var oneLine = Safe(text?.ReplaceLineEndings("⏎"));
        return oneLine.Length <= max ? oneLine : oneLine[..(max - 1)] + "…";
    }
}
