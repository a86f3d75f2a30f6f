using System.Text;
using Sandbox.Docker.Tests.Support;

namespace Sandbox.Docker.Client.Tests;

public sealed class MultiplexedStreamReaderTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ReadAsync_InterleavedFrames_KeepsOrderAndStreams()
    {
        byte[] bytes = Frames.Concat(
            Frames.Frame(StdStream.Stdout, "out1"), Frames.Frame(StdStream.Stderr, "err1"), Frames.Frame(StdStream.Stdout, "out2"));

        var chunks = await ReadAllAsync(new MemoryStream(bytes), bufferSize: 1024);

        chunks.ShouldBe([(StdStream.Stdout, "out1"), (StdStream.Stderr, "err1"), (StdStream.Stdout, "out2")]);
    }

    [Fact]
    public async Task ReadAsync_FramesSplitIntoOneByteReads_ReassemblesHeadersAndPayloads()
    {
        byte[] bytes = Frames.Concat(Frames.Frame(StdStream.Stdout, "hello"), Frames.Frame(StdStream.Stderr, "world"));
        var stream = new TrickleStream(bytes, maxPerRead: 1);

        var chunks = await ReadAllAsync(stream, bufferSize: 1024);

        Joined(chunks, StdStream.Stdout).ShouldBe("hello");
        Joined(chunks, StdStream.Stderr).ShouldBe("world");
        stream.Reads.ShouldBeGreaterThan(bytes.Length);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(9)]
    public async Task ReadAsync_ReadsSplitAcrossFrameBoundaries_NeverMixStreams(int maxPerRead)
    {
        byte[] bytes = Frames.Concat(
            Frames.Frame(StdStream.Stdout, "aaaaaaaaaa"), Frames.Frame(StdStream.Stderr, "bbbbbbbbbb"), Frames.Frame(StdStream.Stdout, "cc"));

        var chunks = await ReadAllAsync(new TrickleStream(bytes, maxPerRead), bufferSize: 1024);

        Joined(chunks, StdStream.Stdout).ShouldBe("aaaaaaaaaacc");
        Joined(chunks, StdStream.Stderr).ShouldBe("bbbbbbbbbb");
        chunks.Where(c => c.Stream == StdStream.Stdout).ShouldAllBe(c => c.Text.All(ch => ch == 'a' || ch == 'c'));
    }

    [Fact]
    public async Task ReadAsync_FrameLargerThanBuffer_ReturnsItOverSeveralReads()
    {
        byte[] payload = new byte[1_000_003];
        new Random(42).NextBytes(payload);
        var reader = new MultiplexedStreamReader(new MemoryStream(Frames.Frame(StdStream.Stderr, payload)));
        var received = new MemoryStream();
        byte[] buffer = new byte[4096];
        int reads = 0;

        while (await reader.ReadAsync(buffer, Token) is (var stream, > 0) read)
        {
            stream.ShouldBe(StdStream.Stderr);
            received.Write(buffer, 0, read.Count);
            reads++;
        }

        received.ToArray().ShouldBe(payload);
        reads.ShouldBeGreaterThanOrEqualTo(payload.Length / buffer.Length);
    }

    [Fact]
    public async Task ReadAsync_TwoFramesInOneChunk_NeverReturnsBothInOneRead()
    {
        byte[] bytes = Frames.Concat(Frames.Frame(StdStream.Stdout, "one"), Frames.Frame(StdStream.Stdout, "two"));
        var reader = new MultiplexedStreamReader(new MemoryStream(bytes));
        byte[] buffer = new byte[64];

        (StdStream _, int first) = await reader.ReadAsync(buffer, Token);

        Encoding.ASCII.GetString(buffer, 0, first).ShouldBe("one");
    }

    [Fact]
    public async Task ReadAsync_ZeroLengthFrames_AreSkippedNotMistakenForEnd()
    {
        byte[] bytes = Frames.Concat(
            Frames.Frame(StdStream.Stdout, ""), Frames.Frame(StdStream.Stderr, ""), Frames.Frame(StdStream.Stdout, "after"), Frames.Frame(StdStream.Stdout, ""));

        var chunks = await ReadAllAsync(new MemoryStream(bytes), bufferSize: 16);

        chunks.ShouldBe([(StdStream.Stdout, "after")]);
    }

    [Fact]
    public async Task ReadAsync_EmptyStream_ReturnsZeroEveryTime()
    {
        var reader = new MultiplexedStreamReader(new MemoryStream());
        byte[] buffer = new byte[8];

        (await reader.ReadAsync(buffer, Token)).Count.ShouldBe(0);
        (await reader.ReadAsync(buffer, Token)).Count.ShouldBe(0);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    public async Task ReadAsync_TruncatedHeader_ThrowsUnavailable(int headerBytes)
    {
        byte[] bytes = Frames.Concat(Frames.Frame(StdStream.Stdout, "ok"), Frames.Frame(StdStream.Stdout, "x")[..headerBytes]);
        var reader = new MultiplexedStreamReader(new MemoryStream(bytes));
        byte[] buffer = new byte[16];
        await reader.ReadAsync(buffer, Token);

        var ex = await Should.ThrowAsync<DockerUnavailableException>(async () => await reader.ReadAsync(buffer, Token));

        ex.Message.ShouldContain($"{headerBytes} of 8 bytes");
        ex.Endpoint.ShouldBe("POST /containers/{id}/attach");
    }

    [Fact]
    public async Task ReadAsync_TruncatedPayload_ThrowsUnavailable()
    {
        byte[] bytes = Frames.Header((byte)StdStream.Stdout, 10, "short"u8);
        var reader = new MultiplexedStreamReader(new MemoryStream(bytes));
        byte[] buffer = new byte[16];
        (await reader.ReadAsync(buffer, Token)).Count.ShouldBe(5);

        await Should.ThrowAsync<DockerUnavailableException>(async () => await reader.ReadAsync(buffer, Token));
    }

    [Fact]
    public async Task ReadAsync_UnknownStreamType_ThrowsNamingTty()
    {
        // Hostile/misconfigured input: raw TTY output starts with a printable byte, not a stream type.
        var reader = new MultiplexedStreamReader(new MemoryStream("hello, world"u8.ToArray()));

        var ex = await Should.ThrowAsync<DockerException>(async () => await reader.ReadAsync(new byte[16], Token));

        ex.ShouldNotBeOfType<DockerUnavailableException>();
        ex.Message.ShouldContain("Tty");
    }

    [Fact]
    public async Task ReadAsync_MaximumDeclaredSize_IsReadAsLongAsBytesCome()
    {
        // A header declaring 4 GiB - 1 must not overflow or allocate; the reader streams what arrives.
        byte[] bytes = Frames.Header((byte)StdStream.Stdout, uint.MaxValue, "abc"u8);
        var reader = new MultiplexedStreamReader(new MemoryStream(bytes));

        (StdStream stream, int count) = await reader.ReadAsync(new byte[16], Token);

        stream.ShouldBe(StdStream.Stdout);
        count.ShouldBe(3);
    }

    [Fact]
    public async Task ReadAsync_EmptyBuffer_Throws()
    {
        var reader = new MultiplexedStreamReader(new MemoryStream(Frames.Frame(StdStream.Stdout, "x")));

        await Should.ThrowAsync<ArgumentException>(async () => await reader.ReadAsync(Memory<byte>.Empty, Token));
    }

    private static async Task<List<(StdStream Stream, string Text)>> ReadAllAsync(Stream stream, int bufferSize)
    {
        var reader = new MultiplexedStreamReader(stream);
        var chunks = new List<(StdStream, string)>();
        byte[] buffer = new byte[bufferSize];
        while (await reader.ReadAsync(buffer, Token) is (var which, > 0) read)
        {
            chunks.Add((which, Encoding.UTF8.GetString(buffer, 0, read.Count)));
        }

        return chunks;
    }

    private static string Joined(List<(StdStream Stream, string Text)> chunks, StdStream stream) =>
        string.Concat(chunks.Where(c => c.Stream == stream).Select(c => c.Text));
}
