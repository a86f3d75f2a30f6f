using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Sandbox.Docker.Tests.Support;

/// <summary>One request the fake daemon received.</summary>
internal sealed record FakeRequest(string Method, string Target, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string Path => Target.Split('?', 2)[0];

    public string Query => Target.Contains('?', StringComparison.Ordinal) ? Target.Split('?', 2)[1] : "";

    /// <summary>The unescaped value of query parameter <paramref name="name"/>, or null.</summary>
    public string? QueryValue(string name) => Query.Split('&', StringSplitOptions.RemoveEmptyEntries)
        .Select(p => p.Split('=', 2))
        .Where(p => p[0] == name)
        .Select(p => Uri.UnescapeDataString(p.Length > 1 ? p[1] : ""))
        .FirstOrDefault();
}

/// <summary>
/// What the fake daemon answers. <see cref="Hijack"/>, when set, runs after the head (and <see cref="Body"/>,
/// sent in the same write) on the raw connection, which is then closed: the attach upgrade.
/// </summary>
internal sealed record FakeResponse(int Status, string Reason = "OK")
{
    public string ContentType { get; init; } = "application/json";

    public byte[] Body { get; init; } = [];

    /// <summary>Send no Content-Length header (an upgraded or raw stream).</summary>
    public bool OmitContentLength { get; init; }

    public IReadOnlyDictionary<string, string> ExtraHeaders { get; init; } = new Dictionary<string, string>();

    public Func<NetworkStream, Task>? Hijack { get; init; }

    public static FakeResponse Json(int status, string json) => new(status) { Body = Encoding.UTF8.GetBytes(json) };

    public static FakeResponse Error(int status, string message) =>
        Json(status, $$"""{"message":"{{message}}"}""");

    public static FakeResponse Empty(int status) => new(status) { ContentType = "text/plain" };

    /// <summary>The default answer to GET /version, naming API <paramref name="api"/>.</summary>
    public static FakeResponse Version(string api) =>
        Json(200, $$"""{"Version":"20.10.24","ApiVersion":"{{api}}","MinAPIVersion":"1.12","Os":"linux"}""");
}

/// <summary>
/// An in-process HTTP/1.1 server on a temporary Unix socket, standing in for dockerd: it records every
/// request and answers with <see cref="FakeResponse"/>s from a handler. Proves our HTTP path and hijack parsing
/// byte for byte, without a daemon. Requests are parsed byte by byte: slow, simple and exact for tiny requests.
/// </summary>
internal sealed class FakeDockerDaemon : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Func<FakeRequest, FakeResponse> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;

    /// <param name="handler">Answers each request; GET /version gets <see cref="FakeResponse.Version"/> "1.41" when it returns null for it.</param>
    public FakeDockerDaemon(Func<FakeRequest, FakeResponse?> handler)
    {
        _handler = request => handler(request)
            ?? (request.Path == "/version" ? FakeResponse.Version("1.41") : FakeResponse.Error(404, $"page not found: {request.Path}"));
        // Short, unique path: sun_path holds at most 107 bytes.
        SocketPath = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"fakedockerd-{Guid.NewGuid():N}.sock");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        _listener.Listen(16);
        _acceptLoop = AcceptLoopAsync();
    }

    public string SocketPath { get; }

    public ConcurrentQueue<FakeRequest> Requests { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _acceptLoop;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Expected: the listener was closed under the pending accept.
        }

        File.Delete(SocketPath);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client = await _listener.AcceptAsync(_stop.Token);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        await using var stream = new NetworkStream(client, ownsSocket: true);
        try
        {
            while (await ReadRequestAsync(stream) is { } request)
            {
                Requests.Enqueue(request);
                FakeResponse response = _handler(request);
                await WriteResponseAsync(stream, response);
                if (response.Hijack is { } hijack)
                {
                    await hijack(stream);
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
        {
            // The client went away; nothing to answer.
        }
    }

    private async Task<FakeRequest?> ReadRequestAsync(NetworkStream stream)
    {
        var head = new List<byte>();
        byte[] one = new byte[1];
        while (head.Count < 4 || !(head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await stream.ReadAsync(one, _stop.Token) == 0)
            {
                return null;
            }

            head.Add(one[0]);
        }

        string[] lines = Encoding.ASCII.GetString([.. head]).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        string[] requestLine = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        byte[] body = [];
        if (headers.TryGetValue("Content-Length", out string? length) && int.Parse(length, CultureInfo.InvariantCulture) is > 0 and var size)
        {
            body = new byte[size];
            await stream.ReadExactlyAsync(body, _stop.Token);
        }

        return new FakeRequest(requestLine[0], requestLine[1], headers, Encoding.UTF8.GetString(body));
    }

    private async Task WriteResponseAsync(NetworkStream stream, FakeResponse response)
    {
        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {response.Status} {response.Reason}\r\n");
        head.Append(CultureInfo.InvariantCulture, $"Content-Type: {response.ContentType}\r\n");
        if (!response.OmitContentLength)
        {
            head.Append(CultureInfo.InvariantCulture, $"Content-Length: {response.Body.Length}\r\n");
        }

        foreach ((string name, string value) in response.ExtraHeaders)
        {
            head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }

        head.Append("\r\n");
        // Head and body in one write: an upgraded answer's first frames then arrive in the same packet as the head.
        byte[] bytes = [.. Encoding.ASCII.GetBytes(head.ToString()), .. response.Body];
        await stream.WriteAsync(bytes, _stop.Token);
    }
}
