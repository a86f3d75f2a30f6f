using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Sandbox.Server.IntegrationTests.Guard;

/// <summary>A webhook on loopback that answers 204 and keeps every JSON body POSTed to it, for alert tests.</summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Lock _gate = new();
    private readonly List<JsonNode> _received = [];
    private readonly Task _loop;

    public WebhookReceiver()
    {
        Url = $"http://127.0.0.1:{FreePort()}/hook/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public string Url { get; }

    /// <summary>Waits until a body matching <paramref name="match"/> arrives; null when none did in time.</summary>
    public async Task<JsonNode?> WaitForAsync(Func<JsonNode, bool> match, TimeSpan timeout)
    {
        JsonNode? found = null;
        await GuardApi.EventuallyAsync(() =>
        {
            lock (_gate)
            {
                found = _received.FirstOrDefault(match);
            }

            return Task.FromResult(found is not null);
        }, timeout);
        return found;
    }

    public IReadOnlyList<JsonNode> Received
    {
        get
        {
            lock (_gate)
            {
                return [.. _received];
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using (var reader = new StreamReader(context.Request.InputStream))
            {
                var body = await reader.ReadToEndAsync();
                if (context.Request.HttpMethod == "POST" && JsonNode.Parse(body) is { } json)
                {
                    lock (_gate)
                    {
                        _received.Add(json);
                    }
                }
            }

            context.Response.StatusCode = (int)HttpStatusCode.NoContent;
            context.Response.Close();
        }
    }

    /// <summary>A port the kernel just handed out; free again once the probe closes.</summary>
    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
