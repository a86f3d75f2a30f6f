using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Sandbox.Server.Hosting;

/// <summary>
/// The connection's output under Kestrel. While a request is the app's, bytes pass through untouched. Bytes written
/// while none is are Kestrel's refusal of a request it could not parse (a status line, <c>Content-Length: 0</c>, and
/// the connection closes after it): the head is collected and answered instead as problem+json with a <c>code</c>,
/// and a 5xx (505, an HTTP version it does not speak) becomes a 400, because the input caused it.
/// </summary>
internal sealed class KestrelRefusalStream(Stream inner, KestrelRefusals.AppRequestState state) : Stream
{
    /// <summary>Kestrel's refusal heads are a few hundred bytes; anything longer without an end is passed on as it came.</summary>
    private const int MaxHeadBytes = 8 * 1024;

    private ArrayBufferWriter<byte>? _head;
    private bool _answered;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Only a plain HTTP/1.x head is Kestrel's refusal: anything else (TLS records, when a middleware of this kind
        // sits outside HTTPS) passes through at once, never held back.
        if (_head is null && (state.InApp || _answered || !buffer.Span.StartsWith("HTTP/1."u8)))
        {
            if (!_answered)
            {
                await inner.WriteAsync(buffer, cancellationToken);
            }

            return; // After our answer Kestrel writes nothing it means (its refusal has no body); the connection closes.
        }

        _head ??= new ArrayBufferWriter<byte>();
        _head.Write(buffer.Span);
        var written = _head.WrittenMemory;
        var end = written.Span.IndexOf("\r\n\r\n"u8);
        if (end < 0 && written.Length <= MaxHeadBytes)
        {
            return;
        }

        _head = null;
        if (end >= 0 && Answer(written.Span[..(end + 2)]) is { } answer)
        {
            _answered = true;
            await inner.WriteAsync(answer, cancellationToken);
        }
        else
        {
            await inner.WriteAsync(written, cancellationToken);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }

    /// <summary>Our answer for Kestrel's head (status line and headers, each ending in CRLF), or null when it is not a refusal.</summary>
    internal static byte[]? Answer(ReadOnlySpan<byte> head)
    {
        var text = Encoding.ASCII.GetString(head);
        var lines = text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var status = lines.Length > 0 && lines[0].Split(' ') is [_, var code, ..] && int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;
        if (status < 400)
        {
            return null;
        }

        var (answerStatus, reason, problemCode, title, detail) = Problem(status);
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["type"] = "urn:sandbox:problem:" + problemCode,
            ["title"] = title,
            ["status"] = answerStatus,
            ["detail"] = detail,
            ["code"] = problemCode,
        }, KestrelRefusalJsonContext.Default.DictionaryStringObject);
        var answer = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {answerStatus} {reason}\r\n")
            .Append("Content-Type: application/problem+json\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n")
            .Append("Connection: close\r\n");
        foreach (var line in lines.Skip(1))
        {
            // Kestrel's own Date, Server and Allow stay; its length and connection headers are replaced above.
            if (line.StartsWith("Date:", StringComparison.OrdinalIgnoreCase) || line.StartsWith("Server:", StringComparison.OrdinalIgnoreCase) || line.StartsWith("Allow:", StringComparison.OrdinalIgnoreCase))
            {
                answer.Append(line).Append("\r\n");
            }
        }

        answer.Append("\r\n");
        return [.. Encoding.ASCII.GetBytes(answer.ToString()), .. body];
    }

    private static (int Status, string Reason, string Code, string Title, string Detail) Problem(int status) => status switch
    {
        408 => (408, "Request Timeout", "request_timeout", "The request arrived too slowly",
            "the request line and headers did not arrive within the time this service allows (see Sandbox:RequestHeadersTimeout); send the whole request at once"),
        411 => (411, "Length Required", "length_required", "The request needs a length",
            "this request must say how long its body is; send Content-Length (or Transfer-Encoding: chunked)"),
        413 => (413, "Payload Too Large", "body_too_large", "The request body is too large",
            "the body is larger than this service accepts (see Sandbox:MaxRequestBodyBytes); send less code, stdin or files"),
        414 => (414, "URI Too Long", "uri_too_long", "The request target is too long",
            "the path and query are longer than this service reads; run ids and query values are short, so check the URL"),
        431 => (431, "Request Header Fields Too Large", "headers_too_large", "The request headers are too large",
            "the headers are more or larger than this service reads; send fewer or shorter headers"),
        405 => (405, "Method Not Allowed", "method_not_allowed", "The method is not allowed here",
            "this service does not take that method on that target; GET /openapi/v1.json lists the endpoints"),
        505 => (400, "Bad Request", "unsupported_http_version", "The HTTP version is not supported",
            "this service speaks HTTP/1.1 (and HTTP/1.0); send the request line as METHOD /path HTTP/1.1"),
        _ => (400, "Bad Request", "malformed_request", "The request's HTTP framing is invalid",
            "the request line or headers could not be read as HTTP/1.1 (such as a bad header name, a control character, a missing Host or two Content-Lengths); send a well-formed HTTP/1.1 request"),
    };
}
