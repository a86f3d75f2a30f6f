using System.Diagnostics;
using System.Text;
using Sandbox.Server.Output;

namespace Sandbox.Server.Tests.Output;

public sealed class OutputSanitizerTests
{
    private const string R = "\uFFFD";

    /// <summary>Sanitises <paramref name="text"/> as if the program wrote exactly it, with a budget that never cuts.</summary>
    private static string Clean(string text) => Clean(Encoding.UTF8.GetBytes(text));

    private static string Clean(byte[] bytes) => OutputSanitizer.Sanitize(bytes, bytes.Length, int.MaxValue);

    private static int Utf8(string text) => Encoding.UTF8.GetByteCount(text);

    [Theory]
    [InlineData("")]
    [InlineData("hello\n")]
    [InlineData("a\tb\nc")]
    [InlineData("naïve café 日本語 \U0001F600\n")]
    [InlineData("{\"json\": [1, 2, 3]}")]
    public void Sanitize_CleanText_IsUnchanged(string text) => Clean(text).ShouldBe(text);

    [Fact]
    public void Sanitize_InvalidUtf8_DecodesLossily()
    {
        byte[] bytes = [(byte)'a', 0xFF, (byte)'b', 0xC3, (byte)'c', 0xE2, 0x82, (byte)'d', 0x80];

        Clean(bytes).ShouldBe($"a{R}b{R}c{R}d{R}");
    }

    [Fact]
    public void Sanitize_TruncatedSequenceAtEnd_IsOneReplacement()
    {
        byte[] bytes = [(byte)'x', 0xF0, 0x9F, 0x98];

        Clean(bytes).ShouldBe($"x{R}");
    }

    [Theory]
    [InlineData("\u001b[31mred\u001b[0m", "red")]
    [InlineData("\u001b[1;38;2;255;0;0mbold\u001b[m", "bold")]
    [InlineData("a\u001b[2Jb\u001b[Hc", "abc")]
    [InlineData("\u001b[?25lhidden cursor\u001b[?25h", "hidden cursor")]
    [InlineData("up\u001b[1Aover", "upover")]
    public void Sanitize_Csi_IsRemoved(string input, string expected) => Clean(input).ShouldBe(expected);

    [Theory]
    [InlineData("\u001b]0;evil title\u0007text", "text")]
    [InlineData("\u001b]0;evil title\u001b\\text", "text")]
    [InlineData("\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\", "click")]
    [InlineData("\u001b]52;c;aGVsbG8=\u0007after", "after")]
    public void Sanitize_Osc_IsRemoved(string input, string expected) => Clean(input).ShouldBe(expected);

    [Theory]
    [InlineData("\u001bPq#0;2;0;0;0\u001b\\x", "x")]
    [InlineData("\u001bXsos\u001b\\x", "x")]
    [InlineData("\u001b^pm\u001b\\x", "x")]
    [InlineData("\u001b_apc\u001b\\x", "x")]
    public void Sanitize_DcsSosPmApc_IsRemoved(string input, string expected) => Clean(input).ShouldBe(expected);

    [Fact]
    public void Sanitize_DcsEndedByBel_IsNotAStringTerminatorSoStaysVisible()
    {
        // Only OSC accepts BEL as a terminator (as in xterm); a DCS without ST is left as text.
        Clean("\u001bPdata\u0007x").ShouldBe($"{R}Pdata{R}x");
    }

    [Theory]
    [InlineData("a\u001b7b\u001b8c", "abc")]
    [InlineData("\u001bcreset", "reset")]
    [InlineData("\u001b(Bascii", "ascii")]
    [InlineData("\u001b#8fill", "fill")]
    [InlineData("\u001b=\u001b>keypad", "keypad")]
    public void Sanitize_TwoByteAndNfEscapes_AreRemoved(string input, string expected) => Clean(input).ShouldBe(expected);

    [Theory]
    [InlineData("\u001b", R)]
    [InlineData("a\u001b", "a" + R)]
    [InlineData("\u001b\u001b[0mx", R + "x")]
    [InlineData("\u001b[12", R + "[12")]
    [InlineData("\u001b[1\nx", R + "[1\nx")]
    [InlineData("\u001b(", R + "(")]
    [InlineData("\u001b\u00e9", R + "\u00e9")]
    public void Sanitize_MalformedEscape_NeutralisesTheEscOnly(string input, string expected) => Clean(input).ShouldBe(expected);

    [Fact]
    public void Sanitize_UnterminatedOsc_DoesNotSwallowTheRest()
    {
        var rest = new string('x', 10_000);

        Clean("\u001b]0;title\n" + rest).ShouldBe($"{R}]0;title\n{rest}");
    }

    [Fact]
    public void Sanitize_OscLongerThanTheLimit_StaysVisible()
    {
        var body = new string('y', OutputSanitizer.MaxStringLength);

        Clean("\u001b]0;" + body + "\u0007z").ShouldBe($"{R}]0;{body}{R}z");
    }

    [Fact]
    public void Sanitize_OscInterruptedByAnotherEscape_KeepsTheTextAndRemovesTheSecondSequence()
    {
        Clean("\u001b]0;title\u001b[31mred").ShouldBe($"{R}]0;titlered");
    }

    [Theory]
    [InlineData("\u009b31mred", "red")]
    [InlineData("\u009d0;title\u0007text", "text")]
    [InlineData("\u009d0;title\u009ctext", "text")]
    [InlineData("\u0090dcs\u009cx", "x")]
    [InlineData("\u009fapc\u001b\\x", "x")]
    [InlineData("a\u0085b", "a" + R + "b")]
    [InlineData("a\u0080b\u009cc", "a" + R + "b" + R + "c")]
    [InlineData("\u009b", R)]
    public void Sanitize_EightBitC1_IsRemovedOrNeutralised(string input, string expected) => Clean(input).ShouldBe(expected);

    [Fact]
    public void Sanitize_RawC1ByteThatIsNotUtf8_IsReplacedAndStartsNothing()
    {
        byte[] bytes = [0x9B, (byte)'3', (byte)'1', (byte)'m', (byte)'x'];

        Clean(bytes).ShouldBe($"{R}31mx");
    }

    [Theory]
    [InlineData("\u202a", "202A")]
    [InlineData("\u202b", "202B")]
    [InlineData("\u202c", "202C")]
    [InlineData("\u202d", "202D")]
    [InlineData("\u202e", "202E")]
    [InlineData("\u2066", "2066")]
    [InlineData("\u2067", "2067")]
    [InlineData("\u2068", "2068")]
    [InlineData("\u2069", "2069")]
    public void Sanitize_BidiControl_IsShownByItsCodePoint(string control, string hex) =>
        Clean("access" + control + "level").ShouldBe($"access<U+{hex}>level");

    /// <summary>Invisible to a human, read by a model: each is written out, so both see the same text.</summary>
    [Theory]
    [InlineData("\u200b", "200B")] // zero-width space
    [InlineData("\u200c", "200C")] // zero-width non-joiner
    [InlineData("\u200d", "200D")] // zero-width joiner
    [InlineData("\u2060", "2060")] // word joiner
    [InlineData("\ufeff", "FEFF")] // zero-width no-break space (BOM)
    public void Sanitize_ZeroWidthCharacter_IsShownByItsCodePoint(string character, string hex) =>
        Clean("pass" + character + "word").ShouldBe($"pass<U+{hex}>word");

    [Theory]
    [InlineData("\u200e", "200E")] // LRM
    [InlineData("\u200f", "200F")] // RLM
    [InlineData("\u061c", "061C")] // Arabic letter mark
    public void Sanitize_DirectionalMark_IsShownByItsCodePoint(string mark, string hex) =>
        Clean("a" + mark + "b").ShouldBe($"a<U+{hex}>b");

    [Theory]
    [InlineData("\u00ad", "00AD")] // soft hyphen: two bytes of UTF-8, the widest expansion
    [InlineData("\u2064", "2064")] // invisible plus
    [InlineData("\u0600", "0600")] // Arabic number sign
    [InlineData("\U0001D173", "1D173")] // musical symbol begin beam
    public void Sanitize_OtherFormatCharacter_IsShownByItsCodePoint(string character, string hex) =>
        Clean("x" + character + "y").ShouldBe($"x<U+{hex}>y");

    [Fact]
    public void Sanitize_TagCharacters_SpellNothingHidden()
    {
        // "ASCII smuggling": U+E0000 + an ASCII letter's code is invisible but read by a model as that letter.
        var hidden = string.Concat("rm -rf".Select(c => char.ConvertFromUtf32(0xE0000 + c)));

        Clean("ok" + hidden + "\U000E007F").ShouldBe("ok<U+E0072><U+E006D><U+E0020><U+E002D><U+E0072><U+E0066><U+E007F>");
        Clean("\U000E0000\U000E0001").ShouldBe("<U+E0000><U+E0001>");
    }

    [Fact]
    public void Sanitize_VariationSelectorsSupplement_AreShown_EmojiPresentationIsNot()
    {
        Clean("\u2764\ufe0f").ShouldBe("\u2764\ufe0f");
        Clean("a\U000E0100\U000E01EFb").ShouldBe("a<U+E0100><U+E01EF>b");
    }

    [Fact]
    public void Sanitize_OnlyHiddenCharacters_StaysWithinTheBudgetAndCountsRawBytes()
    {
        // 3 bytes each raw, 8 characters each shown: the budget applies to what is shown, the marker counts raw bytes.
        var bytes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("\u200b", 1000)));

        var text = OutputSanitizer.Sanitize(bytes, bytes.Length, 400);

        Utf8(text).ShouldBeLessThanOrEqualTo(400);
        text.ShouldContain("bytes omitted");
        text.ShouldStartWith("<U+200B><U+200B>");
    }

    [Fact]
    public void Sanitize_TrojanSourceLine_ShowsEveryControl()
    {
        // The classic "early return" disguise: RLO ... LRI ... PDI ... LRI.
        var line = "/*\u202e } \u2066if (isAdmin)\u2069 \u2066 begin admins only */";

        Clean(line).ShouldBe("/*<U+202E> } <U+2066>if (isAdmin)<U+2069> <U+2066> begin admins only */");
    }

    [Theory]
    [InlineData("a\r\nb\r\n", "a\nb\n")]
    [InlineData("10%\r20%\r30%\n", "10%" + R + "20%" + R + "30%\n")]
    [InlineData("a\r\r\nb", "a" + R + "\nb")]
    [InlineData("end\r", "end" + R)]
    public void Sanitize_CarriageReturn_CrlfBecomesLfAndALoneCrIsReplaced(string input, string expected) =>
        Clean(input).ShouldBe(expected);

    [Theory]
    [InlineData("a\0b", "a" + R + "b")]
    [InlineData("beep\u0007", "beep" + R)]
    [InlineData("abc\b\b\bxyz", "abc" + R + R + R + "xyz")]
    [InlineData("form\ffeed\vtab", "form" + R + "feed" + R + "tab")]
    [InlineData("del\u007f", "del" + R)]
    public void Sanitize_OtherControls_AreReplaced(string input, string expected) => Clean(input).ShouldBe(expected);

    [Fact]
    public void Sanitize_OverBudget_KeepsHeadAndTailWithExactOmittedCount()
    {
        // 100 lines of 9 bytes: the cuts move to line ends.
        var text = string.Concat(Enumerable.Range(0, 100).Select(i => $"line {i:D3}\n"));
        var bytes = Encoding.UTF8.GetBytes(text);

        var result = OutputSanitizer.Sanitize(bytes, bytes.Length, 400);

        Utf8(result).ShouldBeLessThanOrEqualTo(400);
        var parts = result.Split('\n');
        var markerIndex = Array.FindIndex(parts, p => p.StartsWith("[... ", StringComparison.Ordinal));
        markerIndex.ShouldBeGreaterThan(0);
        var head = string.Join('\n', parts[..markerIndex]) + "\n";
        var tail = string.Join('\n', parts[(markerIndex + 1)..]);
        text.ShouldStartWith(head);
        text.ShouldEndWith(tail);
        var omitted = bytes.Length - Utf8(head) - Utf8(tail);
        parts[markerIndex].ShouldBe($"[... {omitted} bytes omitted ...]");
        head.ShouldEndWith("\n");
        tail.ShouldStartWith("line ");
    }

    [Fact]
    public void Sanitize_OverBudget_HeadAndTailAreAboutHalfEach()
    {
        var bytes = Encoding.UTF8.GetBytes(new string('h', 5000) + new string('t', 5000));

        var result = OutputSanitizer.Sanitize(bytes, bytes.Length, 1000);

        var head = result[..result.IndexOf('\n', StringComparison.Ordinal)];
        var tail = result[(result.LastIndexOf('\n') + 1)..];
        head.ShouldBe(new string('h', head.Length));
        tail.ShouldBe(new string('t', tail.Length));
        head.Length.ShouldBeInRange(450, 500);
        tail.Length.ShouldBeInRange(450, 500);
        result.ShouldBe($"{head}\n[... {10_000 - head.Length - tail.Length} bytes omitted ...]\n{tail}");
        Utf8(result).ShouldBeLessThanOrEqualTo(1000);
    }

    [Theory]
    [InlineData("é")]
    [InlineData("日")]
    [InlineData("\U0001F600")]
    public void Sanitize_MultiByteCharactersAtTheCut_AreNeverSplit(string unit)
    {
        var text = string.Concat(Enumerable.Repeat(unit, 1000));
        var bytes = Encoding.UTF8.GetBytes(text);

        foreach (var budget in new[] { 97, 98, 99, 100, 101, 102, 103, 250 })
        {
            var result = OutputSanitizer.Sanitize(bytes, bytes.Length, budget);

            result.ShouldNotContain(R);
            Utf8(result).ShouldBeLessThanOrEqualTo(budget);
            var lines = result.Split('\n');
            lines.Length.ShouldBe(3);
            (lines[0].Length % unit.Length).ShouldBe(0);
            (lines[2].Length % unit.Length).ShouldBe(0);
            var omitted = bytes.Length - Utf8(lines[0]) - Utf8(lines[2]);
            lines[1].ShouldBe($"[... {omitted} bytes omitted ...]");
        }
    }

    [Fact]
    public void Sanitize_OmittedCount_IsInRawBytesEvenWhenEscapesWereRemoved()
    {
        // Each unit is 9 raw bytes that sanitise to "x\n": the count speaks of what the program wrote.
        const string Unit = "\u001b[31;1mx\n";
        var text = string.Concat(Enumerable.Repeat(Unit, 200));
        var bytes = Encoding.UTF8.GetBytes(text);

        var result = OutputSanitizer.Sanitize(bytes, bytes.Length, 120);

        var lines = result.Split('\n');
        var marker = lines.Single(l => l.StartsWith("[... ", StringComparison.Ordinal));
        var shownUnits = lines.Count(l => l == "x");
        // A removed sequence counts with the character after it, so whole units are omitted.
        var omitted = long.Parse(marker["[... ".Length..marker.IndexOf(' ', 5)], System.Globalization.CultureInfo.InvariantCulture);
        (omitted % Utf8(Unit)).ShouldBe(0);
        (omitted / Utf8(Unit) + shownUnits).ShouldBe(200);
    }

    [Fact]
    public void Sanitize_OutputCapReached_AppendsTheDiscardedCount()
    {
        var bytes = Encoding.UTF8.GetBytes("partial output");

        var result = OutputSanitizer.Sanitize(bytes, bytes.Length + 6789L, 1000);

        result.ShouldBe("partial output\n[... output cap reached: 6789 more bytes were discarded]");
    }

    [Fact]
    public void Sanitize_OutputCapReachedAfterANewline_AddsNoBlankLine()
    {
        var bytes = Encoding.UTF8.GetBytes("line\n");

        OutputSanitizer.Sanitize(bytes, 5_000_000_000L, 1000)
            .ShouldBe("line\n[... output cap reached: 4999999995 more bytes were discarded]");
    }

    [Fact]
    public void Sanitize_NothingKeptButCapReached_IsTheMarkerAlone()
    {
        OutputSanitizer.Sanitize([], 42, 1000).ShouldBe("[... output cap reached: 42 more bytes were discarded]");
    }

    [Fact]
    public void Sanitize_OverBudgetAndCapReached_FitsBothMarkersInTheBudget()
    {
        var bytes = Encoding.UTF8.GetBytes(new string('a', 4000));

        var result = OutputSanitizer.Sanitize(bytes, 10_000, 500);

        Utf8(result).ShouldBeLessThanOrEqualTo(500);
        var lines = result.Split('\n');
        lines.Length.ShouldBe(4);
        lines[1].ShouldBe($"[... {4000 - lines[0].Length - lines[2].Length} bytes omitted ...]");
        lines[3].ShouldBe("[... output cap reached: 6000 more bytes were discarded]");
    }

    [Fact]
    public void Sanitize_TextThatFitsOnlyWithoutTheCapMarker_IsCutToMakeRoom()
    {
        var bytes = Encoding.UTF8.GetBytes(new string('a', 100));

        var result = OutputSanitizer.Sanitize(bytes, 200, 120);

        Utf8(result).ShouldBeLessThanOrEqualTo(120);
        result.ShouldEndWith("[... output cap reached: 100 more bytes were discarded]");
        result.ShouldContain(" bytes omitted ...]");
    }

    [Fact]
    public void Sanitize_ExactlyAtBudget_IsNotCut()
    {
        var bytes = Encoding.UTF8.GetBytes(new string('a', 64));

        OutputSanitizer.Sanitize(bytes, 64, 64).ShouldBe(new string('a', 64));
    }

    [Fact]
    public void Sanitize_BudgetSmallerThanTheMarker_StillSaysWhatWasOmitted()
    {
        var bytes = Encoding.UTF8.GetBytes(new string('a', 1000));

        OutputSanitizer.Sanitize(bytes, 1000, 10).ShouldBe("[... 1000 bytes omitted ...]\n");
    }

    [Fact]
    public void Sanitize_ReplacementsThatGrowTheText_AreCountedInTheBudget()
    {
        // NUL is 1 byte raw and 3 bytes as U+FFFD.
        var bytes = new byte[1000];

        var result = OutputSanitizer.Sanitize(bytes, bytes.Length, 300);

        Utf8(result).ShouldBeLessThanOrEqualTo(300);
        var lines = result.Split('\n');
        lines[1].ShouldBe($"[... {1000 - lines[0].Length - lines[2].Length} bytes omitted ...]");
    }

    [Theory]
    [InlineData(-1L, 10)]
    [InlineData(5L, -1)]
    public void Sanitize_InvalidArguments_Throw(long totalBytes, int maxBytes)
    {
        Should.Throw<ArgumentOutOfRangeException>(() => OutputSanitizer.Sanitize("abcdef"u8, totalBytes, maxBytes));
    }

    [Fact]
    public void Sanitize_AMegabyteOfEsc_FinishesFastAndLinear()
    {
        var bytes = new byte[1 << 20];
        bytes.AsSpan().Fill(0x1B);

        var elapsed = Time(() => OutputSanitizer.Sanitize(bytes, bytes.Length, 64 * 1024));

        elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2));
    }

    [Theory]
    [InlineData("\u001b]")]
    [InlineData("\u001bP")]
    [InlineData("\u001b[")]
    [InlineData("\u001b]0;")]
    public void Sanitize_AMegabyteOfUnterminatedIntroducers_FinishesFastAndLinear(string introducer)
    {
        var bytes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(introducer, (1 << 20) / introducer.Length)));

        var elapsed = Time(() => OutputSanitizer.Sanitize(bytes, bytes.Length, 64 * 1024));

        elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void Sanitize_UnterminatedOscBeforeAMegabyteOfText_FinishesFastAndKeepsTheText()
    {
        var bytes = Encoding.UTF8.GetBytes("\u001b]0;" + new string('x', 1 << 20));
        string? result = null;

        var elapsed = Time(() => result = OutputSanitizer.Sanitize(bytes, bytes.Length, int.MaxValue));

        elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2));
        result!.Length.ShouldBe(bytes.Length);
        result.ShouldStartWith(R + "]0;xxx");
    }

    [Fact]
    public void Sanitize_OscSegmentsJustUnderTheLimit_StayLinear()
    {
        // Each OSC scans to the next ESC and fails there: every byte is looked at a bounded number of times.
        var segment = "\u001b]" + new string('z', OutputSanitizer.MaxStringLength - 10);
        var bytes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(segment, (1 << 20) / segment.Length)));

        var elapsed = Time(() => OutputSanitizer.Sanitize(bytes, bytes.Length, 64 * 1024));

        elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void Sanitize_RandomBytes_AlwaysYieldsOnlySafeCharacters()
    {
        var random = new Random(12345);
        for (var round = 0; round < 200; round++)
        {
            var bytes = new byte[random.Next(0, 2000)];
            random.NextBytes(bytes);
            var budget = random.Next(100, 3000);

            var result = OutputSanitizer.Sanitize(bytes, bytes.Length, budget);

            foreach (var c in result)
            {
                var unsafeChar = (c < 0x20 && c != '\n' && c != '\t') || c is >= '\u007f' and <= '\u009f' or >= '\u202a' and <= '\u202e' or >= '\u2066' and <= '\u2069';
                unsafeChar.ShouldBeFalse($"U+{(int)c:X4} in round {round}");
            }

            Utf8(result).ShouldBeLessThanOrEqualTo(budget);
        }
    }

    private static TimeSpan Time(Action action)
    {
        action(); // warm up the JIT so the measurement is of the algorithm
        var stopwatch = Stopwatch.StartNew();
        action();
        return stopwatch.Elapsed;
    }
}
