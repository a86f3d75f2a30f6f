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
    public static Task<RawResponse> SendAsync(Uri server, string head, IReadOnlyList<string> parts, TimeSpan pause, CancellationToken cancellationToken) =>
        SendAsync(server, Encoding.ASCII.GetBytes(head), [.. parts.Select(Encoding.ASCII.GetBytes)], pause, endSend: false, TimeSpan.FromSeconds(60), cancellationToken);

    /// <summary>
    /// The byte-exact form: <paramref name="endSend"/> half-closes the socket after the last part (a body cut short
    /// reaches the server as end of stream, not as a pause), and a response not complete within
    /// <paramref name="timeout"/> is a <see cref="TimeoutException"/>.
    /// </summary>
    public static async Task<RawResponse> SendAsync(Uri server, byte[] head, IReadOnlyList<byte[]> parts, TimeSpan pause, bool endSend, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, cancellationToken);
        var stream = client.GetStream();
        var reading = ReadToEndAsync(stream, cancellationToken);
        try
        {
            await stream.WriteAsync(head, cancellationToken);
            foreach (var part in parts)
            {
                if (reading.IsCompleted)
                {
                    break;
                }

                await Task.Delay(pause, cancellationToken);
                await stream.WriteAsync(part, cancellationToken);
            }

            if (endSend)
            {
                client.Client.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            // The server answered and closed while we were still sending: what it answered is what counts.
        }

        return Parse(await reading.WaitAsync(timeout, cancellationToken));
    }

    // The response is framed on its bytes (Latin-1 keeps one char per byte, so chunk sizes count right) and its body decoded as UTF-8 after.
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
            if (Parse(Encoding.Latin1.GetString(received.ToArray())) is { Complete: true })
            {
                break;
            }
        }

        return Encoding.Latin1.GetString(received.ToArray());
    }

    private static RawResponse Parse(string text)
    {
        // An interim answer (100 Continue) comes before the real one.
        while (text.StartsWith("HTTP/1.1 1", StringComparison.Ordinal) && text.IndexOf("\r\n\r\n", StringComparison.Ordinal) is var interim and >= 0)
        {
            text = text[(interim + 4)..];
        }

        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return new RawResponse(0, "", "", Utf8(text), Complete: false);
        }

        var head = text[..end];
        var body = text[(end + 4)..];
        var status = int.Parse(head.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = head.Split("\r\n").Select(l => l.Split(':', 2)).Where(p => p.Length == 2).ToLookup(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        if (headers["Transfer-Encoding"].Any(v => v.Equals("chunked", StringComparison.OrdinalIgnoreCase)))
        {
            var (decoded, complete) = Dechunk(body);
            return new RawResponse(status, head, Utf8(decoded), Utf8(text), complete);
        }

        var length = headers["Content-Length"].Select(v => int.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault(-1);
        return new RawResponse(status, head, Utf8(body), Utf8(text), Complete: length >= 0 && body.Length >= length);
    }

    private static string Utf8(string latin1) => Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(latin1));

    private static (string Body, bool Complete) Dechunk(string chunked)
    {
        var body = new StringBuilder();
        var at = 0;
        while (true)
        {
            if (at > chunked.Length)
            {
                // The stream ended inside a chunk's closing CRLF (a connection cut mid-body): incomplete, not a parser crash.
                return (body.ToString(), false);
            }

            var lineEnd = chunked.IndexOf("\r\n", at, StringComparison.Ordinal);
            if (lineEnd < 0)
            {
                return (body.ToString(), false);
            }

            if (!int.TryParse(chunked[at..lineEnd], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var size))
            {
                return (body.ToString(), false);
            }

            if (size == 0)
            {
                return (body.ToString(), true);
            }

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
