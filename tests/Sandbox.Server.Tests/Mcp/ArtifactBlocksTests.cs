using System.Security.Cryptography;
using System.Text;
using ModelContextProtocol.Protocol;
using Sandbox.Core.Artifacts;
using Sandbox.Core.Runs;
using Sandbox.Server.Mcp;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Tests.Mcp;

/// <summary>
/// Artifacts as MCP blocks when the program's file is hostile: what is given to the model as text is valid, free of
/// escapes and controls, within <see cref="ArtifactBlocks.TextBudget"/>; anything not text goes as bytes, never as text.
/// </summary>
public sealed class ArtifactBlocksTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ForAsync_C1ControlsBidiAndLoneCarriageReturn_TextIsSanitizedAndLinked()
    {
        // Valid UTF-8 with no C0 control, so it sniffs as text: U+009B is an 8-bit CSI, U+202E reverses what follows, \r overwrites a line.
        var hostile = Encoding.UTF8.GetBytes("a,b\n\u009B2J\u009B31mred\u202Eevil\r1,2\n");

        var blocks = await BlocksAsync(Artifact("data.csv", hostile, MediaTypes.Csv));

        var text = blocks.OfType<EmbeddedResourceBlock>().Single().Resource.ShouldBeOfType<TextResourceContents>().Text;
        ShouldBeClean(text);
        text.ShouldContain("<U+202E>");
        text.ShouldStartWith("a,b\n");
        // The text differs from the bytes, so the exact bytes are linked beside it.
        blocks.OfType<ResourceLinkBlock>().Single().Name.ShouldBe("data.csv");
    }

    [Fact]
    public async Task ForAsync_AnsiEscapesInvalidUtf8AndNuls_ClaimedText_GoesAsBytesNotText()
    {
        // As a remote gateway could label it: text/plain, though the bytes are escapes, NULs and broken UTF-8.
        var hostile = Encoding.ASCII.GetBytes("\u001b[2J\u001b]0;owned\u0007\u001b[31m").Concat(new byte[] { 0, 0, 0xC3, 0x28, 0xFF, 0xFE, (byte)'x' }).ToArray();

        var blocks = await BlocksAsync(Artifact("notes.txt", hostile, MediaTypes.PlainText));

        var blob = blocks.ShouldHaveSingleItem().ShouldBeOfType<EmbeddedResourceBlock>().Resource.ShouldBeOfType<BlobResourceContents>();
        blob.MimeType.ShouldBe(MediaTypes.OctetStream);
        blob.DecodedData.ToArray().ShouldBe(hostile);
    }

    [Fact]
    public async Task ForAsync_TextPastItsBudget_HeadAndTailWithinTheBudget_Linked()
    {
        var big = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 20_000).Select(i => $"{i},{i * i}\n")));
        big.Length.ShouldBeGreaterThan(ArtifactBlocks.TextBudget * 2);

        var blocks = await BlocksAsync(Artifact("big.csv", big, MediaTypes.Csv));

        var text = blocks.OfType<EmbeddedResourceBlock>().Single().Resource.ShouldBeOfType<TextResourceContents>().Text;
        Encoding.UTF8.GetByteCount(text).ShouldBeLessThanOrEqualTo(ArtifactBlocks.TextBudget);
        text.ShouldStartWith("0,0\n");
        text.ShouldEndWith("19999,399960001\n");
        text.ShouldContain("bytes omitted");
        blocks.OfType<ResourceLinkBlock>().Single().Size.ShouldBe(big.Length);
    }

    [Fact]
    public async Task ForAsync_CleanCsv_TextIsTheBytesExactly_NoLink()
    {
        var csv = "x,y\n1,2\n"u8.ToArray();

        var blocks = await BlocksAsync(Artifact("ok.csv", csv, MediaTypes.Csv));

        blocks.ShouldHaveSingleItem().ShouldBeOfType<EmbeddedResourceBlock>().Resource.ShouldBeOfType<TextResourceContents>().Text.ShouldBe("x,y\n1,2\n");
    }

    /// <summary>No C0 control but \n and \t, no DEL, no C1 control, no hidden character as itself.</summary>
    internal static void ShouldBeClean(string text)
    {
        foreach (var c in text)
        {
            (c < 0x20 && c is not ('\n' or '\t')).ShouldBeFalse($"control U+{(int)c:X4} in {text}");
            (c is >= '\u007F' and <= '\u009F').ShouldBeFalse($"DEL or C1 U+{(int)c:X4} in {text}");
            (c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069' or '\u200B').ShouldBeFalse($"hidden U+{(int)c:X4} in {text}");
        }
    }

    private static RunArtifact Artifact(string path, byte[] bytes, string mediaType) => new()
    {
        Path = path,
        SizeBytes = bytes.Length,
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
        MediaType = mediaType,
        Content = bytes,
    };

    private static Task<IReadOnlyList<ContentBlock>> BlocksAsync(params RunArtifact[] artifacts) =>
        ArtifactBlocks.ForAsync(GatewayResult.Of(Some.View(Some.Result(RunStatus.Ok) with { Artifacts = artifacts })), new FakeRunGateway(), Token);
}
