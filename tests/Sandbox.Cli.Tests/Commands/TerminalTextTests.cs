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

    /// <summary>Characters an approver would not see but the program (or a model) would act on: each is shown by its code point.</summary>
    [Theory]
    [InlineData("a\u200Bb", @"a\u{200B}b")] // zero-width space
    [InlineData("a\u200Cb\u200Dc", @"a\u{200C}b\u{200D}c")] // zero-width non-joiner, joiner
    [InlineData("a\u2060b\uFEFFc", @"a\u{2060}b\u{FEFF}c")] // word joiner, BOM
    [InlineData("a\u200Eb\u200Fc\u061Cd", @"a\u{200E}b\u{200F}c\u{061C}d")] // LRM, RLM, Arabic letter mark
    [InlineData("a\u202Ab\u202Dc\u2069d", @"a\u{202A}b\u{202D}c\u{2069}d")] // embedding, override, isolate
    [InlineData("soft\u00ADhyphen", @"soft\u{00AD}hyphen")] // other format characters
    [InlineData("x\U0001D173y", @"x\u{1D173}y")]
    [InlineData("ok\U000E0072\U000E006D\U000E007F", @"ok\u{E0072}\u{E006D}\u{E007F}")] // tags spell "rm"
    [InlineData("a\U000E0100b", @"a\u{E0100}b")] // variation selectors supplement
    public void Safe_InvisibleCharacters_AreShownAsEscapes(string text, string expected) =>
        TerminalText.Safe(text, multiline: true).ShouldBe(expected);

    [Fact]
    public void Safe_EmojiAndLoneSurrogates_PairsPassAndLoneHalvesAreShown()
    {
        TerminalText.Safe("ok \U0001F600 \u2764\uFE0F").ShouldBe("ok \U0001F600 \u2764\uFE0F");
        TerminalText.Safe("a\uD800b").ShouldBe(@"a\u{D800}b");
    }

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
