using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace Sandbox.Guard.Tests.Alerts;

/// <summary>
/// A real HTTP listener on 127.0.0.1 that records each request and answers with the next queued status code (200
/// once the queue is empty), or never answers when <see cref="Hang"/> is set.
/// </summary>
internal sealed class LoopbackWebhook : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<HttpStatusCode> _answers = new();
    private readonly Channel<ReceivedRequest> _received = Channel.CreateUnbounded<ReceivedRequest>();
    private readonly ConcurrentBag<HttpListenerContext> _held = [];
    private readonly Task _loop;

    public LoopbackWebhook(string path = "/hooks/alerts", params HttpStatusCode[] answers)
    {
        foreach (HttpStatusCode answer in answers)
        {
            _answers.Enqueue(answer);
        }

        int port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{port}{path}");
        _loop = Task.Run(ServeAsync);
    }

    public Uri Url { get; }

    /// <summary>Accept requests but never answer them.</summary>
    public bool Hang { get; init; }

    /// <summary>A loopback port nobody listens on (free a moment ago).</summary>
    public static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    /// <summary>An HttpClient that never goes through a proxy: the traffic stays on loopback.</summary>
    public static HttpClient Client() => new(new SocketsHttpHandler { UseProxy = false });

    public async Task<ReceivedRequest> NextAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        return await _received.Reader.ReadAsync(timeout.Token);
    }

    public int ReceivedSoFar => _received.Reader.Count;

    public async ValueTask DisposeAsync()
    {
        foreach (HttpListenerContext held in _held)
        {
            held.Response.Abort();
        }

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
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
            {
                string body = await reader.ReadToEndAsync();
                _received.Writer.TryWrite(new ReceivedRequest(context.Request.HttpMethod, context.Request.ContentType, context.Request.Url!.AbsolutePath, body));
            }

            if (Hang)
            {
                _held.Add(context);
                continue;
            }

            context.Response.StatusCode = (int)(_answers.TryDequeue(out HttpStatusCode status) ? status : HttpStatusCode.OK);
            context.Response.Close();
        }
    }
}

internal sealed record ReceivedRequest(string Method, string? ContentType, string Path, string Body);
