using System.Text;
using System.Text.Json.Nodes;

namespace Sandbox.Server.Hosting.Tests;

public sealed class KestrelRefusalStreamTests
{
    private static byte[] Head(string status) =>
        Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\nDate: Sun, 06 Dec 2026 16:00:00 GMT\r\nServer: Kestrel\r\nAllow: GET\r\n");

    private static (string Head, JsonNode Body) Answer(string status)
    {
        var answer = Encoding.ASCII.GetString(KestrelRefusalStream.Answer(Head(status)).ShouldNotBeNull());
        var split = answer.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return (answer[..split], JsonNode.Parse(answer[(split + 4)..])!);
    }

    [Theory]
    [InlineData("400 Bad Request", 400, "malformed_request")]
    [InlineData("505 HTTP Version Not Supported", 400, "unsupported_http_version")] // a 5xx caused by input becomes a 4xx
    [InlineData("414 URI Too Long", 414, "uri_too_long")]
    [InlineData("431 Request Header Fields Too Large", 431, "headers_too_large")]
    [InlineData("408 Request Timeout", 408, "request_timeout")]
    [InlineData("500 Internal Server Error", 400, "malformed_request")]
    public void Answer_KestrelRefusal_IsAProblemWithACodeAndA4xx(string status, int expected, string code)
    {
        var (head, body) = Answer(status);

        head.ShouldStartWith($"HTTP/1.1 {expected} ");
        head.ShouldContain("Content-Type: application/problem+json");
        head.ShouldContain("Connection: close");
        head.ShouldContain("Date: Sun, 06 Dec 2026");
        head.ShouldNotContain("Content-Length: 0");
        ((string?)body["code"]).ShouldBe(code);
        ((int?)body["status"]).ShouldBe(expected);
        ((string?)body["type"]).ShouldBe("urn:sandbox:problem:" + code);
        ((string?)body["detail"]).ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public void Answer_ContentLengthMatchesTheBody()
    {
        var answer = KestrelRefusalStream.Answer(Head("400 Bad Request"))!;
        var text = Encoding.ASCII.GetString(answer);
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var length = int.Parse(text.Split("\r\n").Single(l => l.StartsWith("Content-Length:", StringComparison.Ordinal))[15..].Trim(), System.Globalization.CultureInfo.InvariantCulture);

        length.ShouldBe(answer.Length - split - 4);
    }

    [Theory]
    [InlineData("HTTP/1.1 100 Continue\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n")]
    [InlineData("garbage\r\n")]
    public void Answer_NotARefusal_IsLeftAlone(string head) =>
        KestrelRefusalStream.Answer(Encoding.ASCII.GetBytes(head)).ShouldBeNull();

    [Fact]
    public async Task WriteAsync_BytesThatAreNotAnHttpHead_PassThroughAtOnce()
    {
        // A TLS record (the stream outside HTTPS) must never be held back waiting for a CRLF CRLF.
        using var sink = new MemoryStream();
        await using var stream = new KestrelRefusalStream(sink, new KestrelRefusals.AppRequestState());
        byte[] record = [0x16, 0x03, 0x03, 0x00, 0x31, 0x02, 0x00];

        await stream.WriteAsync(record, TestContext.Current.CancellationToken);

        sink.ToArray().ShouldBe(record);
    }

    [Fact]
    public async Task WriteAsync_WhileARequestIsTheApps_PassesBytesThrough_AfterwardsRewritesKestrelsHead()
    {
        using var sink = new MemoryStream();
        var state = new KestrelRefusals.AppRequestState { InApp = true };
        await using var stream = new KestrelRefusalStream(sink, state);

        await stream.WriteAsync("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
        var passed = sink.Length;
        state.InApp = false;
        await stream.WriteAsync("HTTP/1.1 431 Request Header Fields Too Large\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
        sink.Length.ShouldBe(passed, "a head is collected until it ends");
        await stream.WriteAsync("Content-Length: 0\r\n\r\n"u8.ToArray(), TestContext.Current.CancellationToken);

        var written = Encoding.ASCII.GetString(sink.ToArray());
        written.ShouldStartWith("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        written[(int)passed..].ShouldStartWith("HTTP/1.1 431 ");
        written.ShouldContain("\"code\":\"headers_too_large\"");
    }
}
