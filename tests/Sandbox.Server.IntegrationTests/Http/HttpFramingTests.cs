using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Http;

/// <summary>
/// Hostile HTTP framing against the real Kestrel on a loopback port (the in-process test server does no framing):
/// whatever Kestrel refuses while the body is read reaches the caller as problem+json with a code, never a 500.
/// </summary>
public sealed class HttpFramingTests : IAsyncLifetime
{
    private readonly SandboxApiFactory _factory = new(new Dictionary<string, string>());
    private Uri _server = null!;

    public ValueTask InitializeAsync()
    {
        _factory.UseKestrel(0);
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

    private string Head(string framing) =>
        $"POST /v1/runs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {_factory.DefaultAgent.Key}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n";
}
