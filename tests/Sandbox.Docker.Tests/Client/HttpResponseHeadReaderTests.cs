using System.Text;
using Sandbox.Docker.Tests.Support;

namespace Sandbox.Docker.Client.Tests;

public sealed class HttpResponseHeadReaderTests
{
    private const string Endpoint = "POST /containers/{id}/attach";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(4096)]
    public async Task ReadHeadAsync_UpgradeWithFramesInSamePacket_KeepsBytesPastHead(int maxPerRead)
    {
        byte[] frames = Frames.Concat(Frames.Frame(StdStream.Stdout, "early"), Frames.Frame(StdStream.Stderr, "bird"));
        byte[] bytes = [.. Ascii("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"), .. frames];
        var stream = new TrickleStream(bytes, maxPerRead);
        var reader = new HttpResponseHeadReader(stream, Endpoint);

        HttpResponseHead head = await reader.ReadHeadAsync(Token);
        byte[] rest = [.. reader.Buffered.ToArray(), .. await ReadRestAsync(stream)];

        head.StatusCode.ShouldBe(101);
        head.ReasonPhrase.ShouldBe("UPGRADED");
        head.Header("upgrade").ShouldBe("tcp");
        head.Header("CONTENT-TYPE").ShouldBe("application/vnd.docker.raw-stream");
        rest.ShouldBe(frames);
    }

    [Fact]
    public async Task ReadBodyAsync_ContentLength_ReadsExactlyTheBody()
    {
        const string json = "{\"message\":\"No such container\"}";
        var reader = Reader($"HTTP/1.1 404 Not Found\r\nContent-Length: {json.Length}\r\n\r\n{json}trailing");
        HttpResponseHead head = await reader.ReadHeadAsync(Token);

        string body = await reader.ReadBodyAsync(head, 1024, Token);

        body.ShouldBe(json);
        Encoding.ASCII.GetString(reader.Buffered.Span).ShouldBe("trailing");
    }

    [Fact]
    public async Task ReadBodyAsync_Chunked_DecodesChunks()
    {
        var reader = Reader("HTTP/1.1 409 Conflict\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n");
        HttpResponseHead head = await reader.ReadHeadAsync(Token);

        string body = await reader.ReadBodyAsync(head, 1024, Token);

        body.ShouldBe("hello, world");
    }

    [Fact]
    public async Task ReadBodyAsync_BodyLargerThanLimit_IsCut()
    {
        var reader = Reader("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100\r\n\r\n" + new string('x', 100));
        HttpResponseHead head = await reader.ReadHeadAsync(Token);

        (await reader.ReadBodyAsync(head, 10, Token)).ShouldBe(new string('x', 10));
    }

    [Theory]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n\r\n")]
    [InlineData("HTTP/1.1 abc Nope\r\n\r\n")]
    [InlineData("HTTP/2 101 UPGRADED\r\n\r\n")]
    [InlineData("HTTP/1.1 101 UPGRADED\r\nno colon here\r\n\r\n")]
    public async Task ReadHeadAsync_NotHttp1_ThrowsMalformed(string answer)
    {
        var ex = await Should.ThrowAsync<DockerException>(() => Reader(answer).ReadHeadAsync(Token));

        ex.ShouldNotBeOfType<DockerUnavailableException>();
        ex.Message.ShouldContain("malformed HTTP answer");
    }

    [Fact]
    public async Task ReadHeadAsync_ConnectionClosedBeforeAnyByte_ThrowsUnavailable()
    {
        await Should.ThrowAsync<DockerUnavailableException>(() => Reader("").ReadHeadAsync(Token));
    }

    [Fact]
    public async Task ReadHeadAsync_EndlessHeaders_StopsAtLimit()
    {
        string flood = "HTTP/1.1 101 UPGRADED\r\n" + string.Concat(Enumerable.Repeat("X-Flood: yes\r\n", 2000));

        var ex = await Should.ThrowAsync<DockerException>(() => Reader(flood).ReadHeadAsync(Token));

        ex.Message.ShouldContain("larger than");
    }

    [Fact]
    public async Task PrefixedReadStream_PrefixThenInner_ReturnsBothInOrder()
    {
        var stream = new PrefixedReadStream("abc"u8.ToArray(), new MemoryStream("def"u8.ToArray()));
        byte[] buffer = new byte[2];
        var all = new List<byte>();

        while (await stream.ReadAsync(buffer, Token) is > 0 and var read)
        {
            all.AddRange(buffer[..read]);
        }

        Encoding.ASCII.GetString([.. all]).ShouldBe("abcdef");
    }

    private static HttpResponseHeadReader Reader(string answer) => new(new MemoryStream(Ascii(answer)), Endpoint);

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    private static async Task<byte[]> ReadRestAsync(Stream stream)
    {
        var rest = new MemoryStream();
        await stream.CopyToAsync(rest, Token);
        return rest.ToArray();
    }
}
