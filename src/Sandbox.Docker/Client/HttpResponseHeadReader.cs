using System.Globalization;
using System.Text;

namespace Sandbox.Docker.Client;

/// <summary>
/// Reads an HTTP/1.1 response head (and, for errors, a small body) from a raw stream, keeping whatever it read
/// past the head in <see cref="Buffered"/>. HttpClient cannot hand over a hijacked connection, so the attach
/// call parses its answer here; bytes after the blank line already belong to the multiplexed stream.
/// </summary>
internal sealed class HttpResponseHeadReader
{
    /// <summary>A head larger than this is not a Docker daemon talking; refuse rather than buffer without bound.</summary>
    public const int MaxHeadBytes = 16 * 1024;

    private readonly Stream _stream;
    private readonly string _endpoint;
    private readonly byte[] _buffer = new byte[MaxHeadBytes];
    private int _start;
    private int _end;

    /// <param name="stream">The connection, positioned at the start of the response.</param>
    /// <param name="endpoint">The call, for error messages.</param>
    public HttpResponseHeadReader(Stream stream, string endpoint)
    {
        _stream = stream;
        _endpoint = endpoint;
    }

    /// <summary>Bytes read past what was consumed so far (after the head: the start of the raw stream).</summary>
    public ReadOnlyMemory<byte> Buffered => _buffer.AsMemory(_start, _end - _start);

    /// <summary>Reads the status line and headers up to and including the blank line.</summary>
    /// <exception cref="DockerException">The answer is not HTTP/1.x, is malformed or too large.</exception>
    /// <exception cref="DockerUnavailableException">The connection closed before the head was complete.</exception>
    public async Task<HttpResponseHead> ReadHeadAsync(CancellationToken cancellationToken)
    {
        string statusLine = await ReadLineAsync(cancellationToken);
        int headBytes = statusLine.Length + 2;
        // "HTTP/1.1 101 UPGRADED": version, code, optional reason.
        string[] parts = statusLine.Split(' ', 3);
        if (parts.Length < 2
            || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal)
            || parts[1].Length != 3
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int status))
        {
            throw Malformed($"status line '{Printable(statusLine)}'");
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (await ReadLineAsync(cancellationToken) is { Length: > 0 } line)
        {
            // Lines are consumed as they come, so the buffer alone would not bound an endless header flood.
            headBytes += line.Length + 2;
            if (headBytes > MaxHeadBytes)
            {
                throw Malformed($"a response head larger than {MaxHeadBytes} bytes");
            }

            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw Malformed($"header line '{Printable(line)}'");
            }

            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        return new HttpResponseHead(status, parts.Length > 2 ? parts[2] : "", headers);
    }

    /// <summary>
    /// Reads the body of a non-upgrade answer (an error), honouring Content-Length or chunked encoding, up to
    /// <paramref name="maxBytes"/>. Without either, there is no body we can delimit safely, so none is read.
    /// </summary>
    public async Task<string> ReadBodyAsync(HttpResponseHead head, int maxBytes, CancellationToken cancellationToken)
    {
        var body = new MemoryStream();
        if (string.Equals(head.Header("Transfer-Encoding"), "chunked", StringComparison.OrdinalIgnoreCase))
        {
            while (body.Length < maxBytes)
            {
                string sizeLine = await ReadLineAsync(cancellationToken);
                string hex = sizeLine.Split(';', 2)[0].Trim();
                if (!int.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int size) || size < 0)
                {
                    throw Malformed($"chunk size '{Printable(sizeLine)}'");
                }

                if (size == 0)
                {
                    break;
                }

                await CopyAsync(body, Math.Min(size, maxBytes), cancellationToken);
                if (size > maxBytes)
                {
                    break;
                }

                await ReadLineAsync(cancellationToken);
            }
        }
        else if (long.TryParse(head.Header("Content-Length"), NumberStyles.None, CultureInfo.InvariantCulture, out long length))
        {
            await CopyAsync(body, (int)Math.Min(length, maxBytes), cancellationToken);
        }

        return Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length);
    }

    private async Task CopyAsync(MemoryStream destination, int count, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            if (_end == _start && !await FillAsync(cancellationToken))
            {
                throw Closed();
            }

            int take = Math.Min(count, _end - _start);
            destination.Write(_buffer, _start, take);
            _start += take;
            count -= take;
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int newline = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
            if (newline >= 0)
            {
                string line = Encoding.Latin1.GetString(_buffer, _start, newline);
                _start += newline + 2;
                return line;
            }

            if (!await FillAsync(cancellationToken))
            {
                throw _end == _start ? Closed() : Malformed("a line without CRLF before the connection closed");
            }
        }
    }

    /// <summary>Reads more bytes into the buffer, compacting first; false at end of stream.</summary>
    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            throw Malformed($"a response head larger than {MaxHeadBytes} bytes");
        }

        int read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        _end += read;
        return read > 0;
    }

    private DockerException Malformed(string what) => new(
        $"{_endpoint} got a malformed HTTP answer ({what}); is DOCKER_HOST pointing at a Docker Engine socket?",
        _endpoint);

    private DockerUnavailableException Closed() => new(
        $"the daemon closed the connection in the middle of the {_endpoint} answer; is dockerd restarting? see its log",
        _endpoint);

    private static string Printable(string text) => text.Length > 80 ? text[..80] + "…" : text;
}
