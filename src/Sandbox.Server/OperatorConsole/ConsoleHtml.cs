using System.Text;
using System.Text.Encodings.Web;
using Sandbox.Core.Text;

namespace Sandbox.Server.OperatorConsole;

/// <summary>
/// The console's one way to put text into a page. Everything that is not a constant of this code goes through
/// <see cref="Text"/>: agent names, purposes, code, file names, notes, operator names, ids.
/// </summary>
internal sealed class ConsoleHtml
{
    private readonly StringBuilder _html = new();

    /// <summary>
    /// <paramref name="text"/> made visible, then HTML-encoded: control, bidi and format characters shown as
    /// <c>\u{XXXX}</c> as <c>sandbox approvals show</c> does (DisplayText), so the page shows what would run in the
    /// order it would run; then every markup character encoded, so no text becomes a tag, attribute or script.
    /// </summary>
    public static string Encode(string? text, bool multiline = false) =>
        string.IsNullOrEmpty(text) ? "" : HtmlEncoder.Default.Encode(DisplayText.Escape(text, keepNewlinesAndTabs: multiline));

    /// <summary>Markup written by this code; never pass it anything that came from outside (use <see cref="Text"/>).</summary>
    public ConsoleHtml Raw(string markup)
    {
        _html.Append(markup);
        return this;
    }

    /// <summary>Text from anywhere, encoded (<see cref="Encode"/>).</summary>
    public ConsoleHtml Text(string? text, bool multiline = false)
    {
        _html.Append(Encode(text, multiline));
        return this;
    }

    /// <summary>An element with encoded text content: <c>&lt;tag class="…"&gt;text&lt;/tag&gt;</c>.</summary>
    public ConsoleHtml Element(string tag, string? text, string? cssClass = null)
    {
        _html.Append('<').Append(tag);
        if (cssClass is not null)
        {
            _html.Append(" class=\"").Append(Encode(cssClass)).Append('"');
        }

        _html.Append('>').Append(Encode(text)).Append("</").Append(tag).Append('>');
        return this;
    }

    /// <summary>A hidden CSRF field carrying the session's token.</summary>
    public ConsoleHtml Csrf(ConsoleSession session) =>
        Raw("<input type=\"hidden\" name=\"").Raw(ConsoleSecurity.CsrfField).Raw("\" value=\"").Text(session.CsrfToken).Raw("\">");

    public override string ToString() => _html.ToString();
}
