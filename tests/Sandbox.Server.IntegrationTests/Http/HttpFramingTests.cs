using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Http;

/// <summary>
/// Hostile HTTP framing against the real Kestrel on a loopback port (the in-process test server does no framing):
/// whatever Kestrel refuses, while the body is read or before any handler runs (request line, headers, version),
/// reaches the caller as problem+json with a code, never a 5xx.
/// </summary>
public sealed class HttpFramingTests : IAsyncLifetime
{
    // One second for the headers, so the header-timeout test need not wait Kestrel's default ten.
    private readonly SandboxApiFactory _factory = new(new Dictionary<string, string> { ["Sandbox:RequestHeadersTimeout"] = "00:00:01", ["urls"] = "http://127.0.0.1:0" });
    private Uri _server = null!;

    public ValueTask InitializeAsync()
    {
        // Port 0 through the "urls" setting, not UseKestrel(0): that overload rewrites the server's addresses after the app
        // has started Kestrel on its own thread, a race that failed this fixture in CI (dotnet/aspnetcore#67714).
        _factory.UseKestrel();
        _factory.StartServer();
        using var client = _factory.CreateClient();
        _server = client.BaseAddress!;
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _factory.DisposeAsync();

    [Theory]
    [InlineData("zz\r\n{}\r\n0\r\n\r\n")] // attack: a chunk size that is not hexadecimal
    [InlineData("FFFFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n")] // attack: a chunk size that overflows
    public async Task Post_MalformedChunkedBody_Is400MalformedRequest(string chunks)
    {
        var response = await RawHttp.SendAsync(_server, Head("Transfer-Encoding: chunked") + chunks, [], TimeSpan.Zero, TestContext.Current.CancellationToken);

        response.Status.ShouldBe(400, response.Raw);
        response.Head.ShouldContain("application/problem+json", Case.Insensitive);
        ((string?)response.Json["code"]).ShouldBe("malformed_request");
    }

    [Fact]
    public async Task Post_BodyAtOneBytePerSecond_Is408RequestTimeout()
    {
        // attack: a body dribbled at 1 byte/s holds a connection and a request for as long as the caller likes.
        var body = Enumerable.Repeat("x", 30).ToList();

        var response = await RawHttp.SendAsync(_server, Head("Content-Length: 100"), body, TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);

        response.Status.ShouldBe(408, response.Raw);
        response.Head.ShouldContain("application/problem+json", Case.Insensitive);
        ((string?)response.Json["code"]).ShouldBe("request_timeout");
    }

    [Fact]
    public async Task Post_ChunkedBodyOverTheCap_Is413BodyTooLarge()
    {
        var chunk = new string('x', 1024 * 1024);
        var chunks = Enumerable.Repeat($"{chunk.Length:X}\r\n{chunk}\r\n", 9).ToList();

        var response = await RawHttp.SendAsync(_server, Head("Transfer-Encoding: chunked"), chunks, TimeSpan.Zero, TestContext.Current.CancellationToken);

        response.Status.ShouldBe(413, response.Raw);
        ((string?)response.Json["code"]).ShouldBe("body_too_large");
    }

    [Theory]
    [InlineData("GET /v1/me HTTP/9.9", 400, "unsupported_http_version")] // attack: a version Kestrel answered with 505, a 5xx caused by input
    [InlineData("GET /v1/me HTTP/1.1 extra", 400, "malformed_request")] // attack: a request line Kestrel refused with a bare 400
    [InlineData("G\u0001T /v1/me HTTP/1.1", 400, "malformed_request")] // attack: a control character in the method
    public async Task Send_RequestLineKestrelRefuses_IsAProblemWithACodeNever5xx(string line, int status, string code)
    {
        var response = await RawHttp.SendAsync(_server, line + "\r\nHost: localhost\r\n\r\n", [], TimeSpan.Zero, TestContext.Current.CancellationToken);

        AssertProblem(response, status, code);
    }

    [Theory]
    [InlineData("Bad Name: x", 400, "malformed_request")] // attack: a space in a header name
    [InlineData("X-Nul: a\u0000b", 400, "malformed_request")] // attack: NUL in a header value
    [InlineData("X-Big: {big}", 431, "headers_too_large")] // attack: one header over Kestrel's 32 KiB
    public async Task Send_HeaderKestrelRefuses_IsAProblemWithACode(string header, int status, string code)
    {
        header = header.Replace("{big}", new string('b', 40_000), StringComparison.Ordinal);

        var response = await RawHttp.SendAsync(_server, $"GET /v1/me HTTP/1.1\r\nHost: localhost\r\n{header}\r\n\r\n", [], TimeSpan.Zero, TestContext.Current.CancellationToken);

        AssertProblem(response, status, code);
    }

    [Fact]
    public async Task Send_TargetOverKestrelsLimit_Is414UriTooLong()
    {
        var response = await RawHttp.SendAsync(_server, $"GET /v1/runs/{new string('r', 9000)} HTTP/1.1\r\nHost: localhost\r\n\r\n", [], TimeSpan.Zero, TestContext.Current.CancellationToken);

        AssertProblem(response, 414, "uri_too_long");
    }

    [Fact]
    public async Task Send_BadRequestAfterAGoodOneOnTheSameConnection_LeavesTheFirstAnswerAsItWasAndRewritesTheSecond()
    {
        // Keep-alive: the app's answer passes untouched, and only what Kestrel writes once no request is ours is rewritten.
        var head = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\nGET /v1/me HTTP/9.9\r\nHost: localhost\r\n\r\n";

        // Both answers, read until Kestrel closes the connection after the second: a reader that stops at the first complete
        // response saw only the 200 whenever the two arrived in separate reads (CI).
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(_server.Host, _server.Port, TestContext.Current.CancellationToken);
        var stream = tcp.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head), TestContext.Current.CancellationToken);
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        reading.CancelAfter(TimeSpan.FromSeconds(10));
        var received = new MemoryStream();
        await stream.CopyToAsync(received, reading.Token);
        var raw = System.Text.Encoding.UTF8.GetString(received.ToArray());
        var response = (Status: int.Parse(raw.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture), Raw: raw);

        response.Status.ShouldBe(200, response.Raw);
        response.Raw.ShouldContain("\"name\":\"alive\"");
        response.Raw.ShouldContain("HTTP/1.1 400 Bad Request");
        response.Raw.ShouldContain("\"code\":\"unsupported_http_version\"");
        response.Raw.ShouldNotContain(" 505 ");
    }

    [Fact]
    public async Task Send_HeadersThatNeverEnd_Is408RequestTimeoutAsAProblem()
    {
        // attack: a client that opens a request and never finishes its headers holds a connection; Kestrel's 408 was bare.
        var response = await RawHttp.SendAsync(_server, "GET /v1/me HTTP/1.1\r\nHost: localhost\r\nX-Slow: ", [], TimeSpan.Zero, TestContext.Current.CancellationToken);

        AssertProblem(response, 408, "request_timeout");
    }

    private static void AssertProblem(RawResponse response, int status, string code)
    {
        response.Status.ShouldBe(status, response.Raw);
        response.Head.ShouldContain("Content-Type: application/problem+json", Case.Insensitive);
        ((string?)response.Json["code"]).ShouldBe(code, response.Raw);
        ((int?)response.Json["status"]).ShouldBe(status);
    }

    private string Head(string framing) =>
        $"POST /v1/runs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {_factory.DefaultAgent.Key}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n";
}
