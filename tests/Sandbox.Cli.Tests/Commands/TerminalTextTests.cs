using Sandbox.Cli.Commands;

namespace Sandbox.Cli.Tests.Commands;

public sealed class TerminalTextTests
{
    [Fact]
    public void Safe_PlainText_IsUnchanged() =>
        TerminalText.Safe("print('héllo') # ok").ShouldBe("print('héllo') # ok");

    /// <summary>Attacks on the terminal: each character that can move the cursor, erase or reorder text is shown, not obeyed.</summary>
    [Theory]
    [InlineData("a\u001b[2Kb", @"a\u{001B}[2Kb")]
    [InlineData("a\rb", @"a\u{000D}b")]
    [InlineData("a\bb", @"a\u{0008}b")]
    [InlineData("a\u009bb", @"a\u{009B}b")]
    [InlineData("a\u202Eb\u2066c", @"a\u{202E}b\u{2066}c")]
    [InlineData("a\u2028b", @"a\u{2028}b")]
    public void Safe_ControlAndBidiCharacters_AreShownAsEscapes(string text, string expected) =>
        TerminalText.Safe(text).ShouldBe(expected);

    [Fact]
    public void Safe_Multiline_KeepsNewlinesAndTabsOnly()
    {
        TerminalText.Safe("a\n\tb\r\n", multiline: true).ShouldBe("a\n\tb\\u{000D}\n");
        TerminalText.Safe("a\nb").ShouldBe(@"a\u{000A}b");
    }

    [Fact]
    public void Preview_CutsToLengthOnOneLine() =>
        TerminalText.Preview("first line\nsecond line", 15).ShouldBe("first line⏎sec…");
}
