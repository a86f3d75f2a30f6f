using System.Formats.Tar;
using System.Text;
using Sandbox.Core.Limits;
using Sandbox.Docker.Artifacts;
using Sandbox.Docker.Execution;

namespace Sandbox.Docker.Tests.Execution;

public sealed class OutputsReaderTests
{
    private const string Nonce = "0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(4096)]
    public async Task Ended_EndLineAndStdoutMarker_CompletesWithTheStatusAndKeepsTheLineOffStderr(int chunkSize)
    {
        var (reader, stdout, stderr) = New();

        Feed(reader, [.. Bytes("out\n"), .. OutputsCommand.Marker(Nonce)], [.. Bytes("err\n"), .. EndLine("7 0")], chunkSize, stdout, stderr);

        reader.Ended.IsCompletedSuccessfully.ShouldBeTrue();
        (await reader.Ended).ShouldBe(7);
        Encoding.UTF8.GetString([.. stdout]).ShouldBe("out\n");
        Encoding.UTF8.GetString([.. stderr]).ShouldBe("err\n");
    }

    [Fact]
    public void Ended_EndLineBeforeTheStdoutMarker_WaitsForStdout()
    {
        // The two streams travel apart: stderr's last line may come while stdout is still on its way.
        var (reader, stdout, stderr) = New();

        reader.FeedStderr(EndLine("0 0"), b => stderr.AddRange(b.ToArray()));
        reader.Feed(Bytes("still coming"), b => stdout.AddRange(b.ToArray()));

        reader.Ended.IsCompleted.ShouldBeFalse();
        reader.Feed(OutputsCommand.Marker(Nonce), b => stdout.AddRange(b.ToArray()));
        reader.Ended.IsCompletedSuccessfully.ShouldBeTrue();
        Encoding.UTF8.GetString([.. stdout]).ShouldBe("still coming");
    }

    [Fact]
    public void Ended_TarFollowed_WaitsForTheArchiveToEnd()
    {
        var (reader, stdout, _) = New();
        var tar = Tar("a.txt", "hello");

        reader.FeedStderr(EndLine("0 1"), _ => { });
        reader.Feed([.. OutputsCommand.Marker(Nonce), .. tar.AsSpan(0, 600)], b => stdout.AddRange(b.ToArray()));
        reader.Ended.IsCompleted.ShouldBeFalse();

        reader.Feed(tar.AsSpan(600), b => stdout.AddRange(b.ToArray()));
        reader.Ended.IsCompletedSuccessfully.ShouldBeTrue();
        var outcome = OutputsReader.Complete(reader, StepOutcome.Collected(0, false, KillReason.None, new OutputCollector(1024), new OutputCollector(1024), 1, 1, 1));
        outcome.Artifacts.ShouldNotBeNull().ShouldHaveSingleItem().Path.ShouldBe("a.txt");
    }

    [Theory]
    [InlineData("another-nonce", "0 0")] // the program cannot know the run's nonce
    [InlineData(Nonce, "0")] // no tar flag
    [InlineData(Nonce, "0 2")] // not a flag
    [InlineData(Nonce, "-1 0")] // not a status
    [InlineData(Nonce, "256 0")] // past what a shell reports
    [InlineData(Nonce, "0 0 and then some more words")] // too long to be the wrapper's
    public void Ended_NotTheWrappersLine_NeverCompletes(string nonce, string rest)
    {
        var (reader, _, stderr) = New();
        var line = (byte[])[.. OutputsCommand.EndMarker(nonce), .. Bytes(rest + "\n")];

        reader.Feed(OutputsCommand.Marker(Nonce), _ => { });
        reader.FeedStderr(line, b => stderr.AddRange(b.ToArray()));
        reader.FlushStderr(b => stderr.AddRange(b.ToArray()));

        reader.Ended.IsCompleted.ShouldBeFalse();
        if (nonce != Nonce)
        {
            // Another nonce's line is the program's own stderr, kept whole.
            stderr.ToArray().ShouldBe(line);
        }
    }

    [Fact]
    public void FlushStderr_StreamEndsInsideAnEndLine_GivesTheHeldBytesToTheProgram()
    {
        var (reader, _, stderr) = New();
        var start = OutputsCommand.EndMarker(Nonce).AsSpan(0, 6).ToArray();

        reader.FeedStderr([.. Bytes("e"), .. start], b => stderr.AddRange(b.ToArray()));
        reader.FlushStderr(b => stderr.AddRange(b.ToArray()));

        stderr.ToArray().ShouldBe([.. Bytes("e"), .. start]);
        reader.Ended.IsCompleted.ShouldBeFalse();
    }

    private static (OutputsReader Reader, List<byte> Stdout, List<byte> Stderr) New() =>
        (new OutputsReader(new ArtifactCapture(Nonce, ArtifactLimits.Default)), [], []);

    private static void Feed(OutputsReader reader, byte[] outBytes, byte[] errBytes, int chunkSize, List<byte> stdout, List<byte> stderr)
    {
        for (var i = 0; i < Math.Max(outBytes.Length, errBytes.Length); i += chunkSize)
        {
            if (i < errBytes.Length)
            {
                reader.FeedStderr(errBytes.AsSpan(i, Math.Min(chunkSize, errBytes.Length - i)), b => stderr.AddRange(b.ToArray()));
            }

            if (i < outBytes.Length)
            {
                reader.Feed(outBytes.AsSpan(i, Math.Min(chunkSize, outBytes.Length - i)), b => stdout.AddRange(b.ToArray()));
            }
        }
    }

    private static byte[] EndLine(string rest) => [.. OutputsCommand.EndMarker(Nonce), .. Bytes(rest + "\n")];

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Tar(string name, string content)
    {
        using var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, TarEntryFormat.Gnu, leaveOpen: true))
        {
            writer.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, "./" + name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) });
        }

        return stream.ToArray();
    }
}
