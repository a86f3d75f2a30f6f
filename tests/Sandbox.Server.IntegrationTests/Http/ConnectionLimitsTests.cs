using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Http;

/// <summary>The connection cap and the idle timeout, on the real Kestrel over loopback, with small settings so the test is quick.</summary>
public sealed class ConnectionLimitsTests : IAsyncLifetime
{
    private readonly SandboxApiFactory _factory = new(new Dictionary<string, string>
    {
        ["Sandbox:MaxConnections"] = "2",
        ["Sandbox:KeepAliveTimeout"] = "00:00:02",
        ["urls"] = "http://127.0.0.1:0",
    });

    private Uri _server = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

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

    [Fact]
    public async Task IdleKeepAliveConnection_IsClosedAfterKeepAliveTimeout()
    {
        // attack: idle connections left open (Kestrel's default is 130 s) pile up until the host runs out of sockets.
        using var client = await ConnectAndAskAsync();
        var idle = Stopwatch.StartNew();

        var closed = await ReadsEndOfStreamAsync(client, TimeSpan.FromSeconds(15));

        closed.ShouldBeTrue("the idle connection was still open after 15 s");
        idle.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ConnectionPastTheCap_IsClosedAtOnce()
    {
        using var first = await ConnectAndAskAsync();
        using var second = await ConnectAndAskAsync();

        using var third = new TcpClient();
        await third.ConnectAsync(_server.Host, _server.Port, Token);
        try
        {
            await third.GetStream().WriteAsync(Encoding.ASCII.GetBytes("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"), Token);
        }
        catch (IOException)
        {
            // Closed before we could even ask: that is the cap working.
        }

        (await ReadsEndOfStreamAsync(third, TimeSpan.FromSeconds(1.5))).ShouldBeTrue("a third connection was served past a cap of 2");
    }

    private async Task<TcpClient> ConnectAndAskAsync()
    {
        var client = new TcpClient();
        await client.ConnectAsync(_server.Host, _server.Port, Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"), Token);
        var buffer = new byte[4096];
        var read = await stream.ReadAsync(buffer, Token);
        Encoding.ASCII.GetString(buffer, 0, read).ShouldStartWith("HTTP/1.1 200");
        return client;
    }

    /// <summary>True once the server closes the connection (end of stream or reset) within <paramref name="within"/>.</summary>
    private static async Task<bool> ReadsEndOfStreamAsync(TcpClient client, TimeSpan within)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(within);
        var buffer = new byte[4096];
        try
        {
            while (await client.GetStream().ReadAsync(buffer, timeout.Token) > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException) when (!Token.IsCancellationRequested)
        {
            return false;
        }
    }
}
