
namespace Sandbox.Server.OperatorConsole.Tests;

public sealed class ConsoleHtmlTests
{
    [Theory]
    [InlineData("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;")]
    [InlineData("</script><script>alert(1)</script>", "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;")]
    [InlineData("\" onmouseover=\"alert(1)", "&quot; onmouseover=&quot;alert(1)")]
    [InlineData("it's & more", "it&#x27;s &amp; more")]
    public void Encode_Markup_IsInertText(string hostile, string expected) => ConsoleHtml.Encode(hostile).ShouldBe(expected);

    [Fact]
    public void Encode_BidiOverrideAndZeroWidth_AreShownAsEscapes()
    {
        // Trojan Source: U+202E reverses what follows; U+200B hides between letters.
        var encoded = ConsoleHtml.Encode("ok\u202Etxt.exe\u200B");

        encoded.ShouldBe("ok\\u{202E}txt.exe\\u{200B}");
        encoded.ShouldNotContain('\u202E');
    }

    [Fact]
    public void Encode_ControlCharacters_ShownAndNewlinesKeptOnlyWhenMultiline()
    {
        ConsoleHtml.Encode("a\u001b[2Jb\nc").ShouldBe("a\\u{001B}[2Jb\\u{000A}c");
        ConsoleHtml.Encode("a\u001bb\nc", multiline: true).ShouldBe("a\\u{001B}b&#xA;c"); // a newline, as a character reference
    }

    [Fact]
    public void Encode_Null_IsEmpty() => ConsoleHtml.Encode(null).ShouldBe("");

    [Fact]
    public void Element_EncodesTextAndClass()
    {
        var html = new ConsoleHtml().Element("td", "<b>x</b>", "a\"b").ToString();

        html.ShouldBe("<td class=\"a&quot;b\">&lt;b&gt;x&lt;/b&gt;</td>");
    }

    [Fact]
    public void Csrf_WritesTheSessionToken()
    {
        var session = new ConsoleSession("key", "tok\"en", "alice", DateTimeOffset.UnixEpoch);

        new ConsoleHtml().Csrf(session).ToString().ShouldBe("<input type=\"hidden\" name=\"csrf\" value=\"tok&quot;en\">");
    }
}
