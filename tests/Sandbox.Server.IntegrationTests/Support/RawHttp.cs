using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Sandbox.Server.IntegrationTests.Support;

/// <summary>
/// HTTP/1.1 over a bare socket, for what HttpClient refuses to send (a broken chunk size, a body dribbled a byte
/// at a time) and the in-process test server never parses: the framing itself, as Kestrel sees it.
/// </summary>
internal static class RawHttp
{
    /// <summary>Sends <paramref name="head"/> and then each of <paramref name="parts"/> after <paramref name="pause"/>, and reads the response until the server closes.</summary>
    public static async Task<RawResponse> SendAsync(Uri server, string head, IReadOnlyList<string> parts, TimeSpan pause, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, cancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken);
        var reading = ReadToEndAsync(stream, cancellationToken);
        foreach (var part in parts)
        {
            if (reading.IsCompleted)
            {
                break;
            }

            await Task.Delay(pause, cancellationToken);
            try
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(part), cancellationToken);
            }
            catch (IOException)
            {
                // The server answered and closed while we were still sending: what it answered is what counts.
                break;
            }
        }

        return Parse(await reading.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken));
    }

    private static async Task<string> ReadToEndAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        var buffer = new byte[4096];
        while (true)
        {
            int read;
            try
            {
                read = await stream.ReadAsync(buffer, cancellationToken);
            }
            catch (IOException)
            {
                break;
            }

            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
            if (Parse(Encoding.UTF8.GetString(received.ToArray())) is { Complete: true })
            {
                break;
            }
        }

        return Encoding.UTF8.GetString(received.ToArray());
    }

    private static RawResponse Parse(string text)
    {
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return new RawResponse(0, "", "", text, Complete: false);
        }

        var head = text[..end];
        var body = text[(end + 4)..];
        var status = int.Parse(head.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = head.Split("\r\n").Select(l => l.Split(':', 2)).Where(p => p.Length == 2).ToLookup(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        if (headers["Transfer-Encoding"].Any(v => v.Equals("chunked", StringComparison.OrdinalIgnoreCase)))
        {
            var (decoded, complete) = Dechunk(body);
            return new RawResponse(status, head, decoded, text, complete);
        }

        var length = headers["Content-Length"].Select(v => int.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault(-1);
        return new RawResponse(status, head, body, text, Complete: length >= 0 && Encoding.UTF8.GetByteCount(body) >= length);
    }

    private static (string Body, bool Complete) Dechunk(string chunked)
    {
        var body = new StringBuilder();
        var at = 0;
        while (true)
        {
            var lineEnd = chunked.IndexOf("\r\n", at, StringComparison.Ordinal);
            if (lineEnd < 0)
            {
                return (body.ToString(), false);
            }

            var size = int.Parse(chunked[at..lineEnd], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
            if (size == 0)
            {
                return (body.ToString(), true);
            }

            // Problem bodies are ASCII-escaped JSON, so a byte count is a character count here.
            if (lineEnd + 2 + size > chunked.Length)
            {
                return (body.ToString(), false);
            }

            body.Append(chunked, lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }
    }
}

/// <summary>A response as read off the socket.</summary>
internal sealed record RawResponse(int Status, string Head, string Body, string Raw, bool Complete)
{
    public JsonNode Json => JsonNode.Parse(Body) ?? throw new InvalidOperationException("the body is JSON null");
}
