using System.Buffers;
using Microsoft.AspNetCore.Http;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Http;

/// <summary>Reads a request body up to a cap: past it the caller answers 413 without buffering the rest.</summary>
internal static class BodyReader
{
    /// <summary>
    /// The body's bytes, or the problem to answer instead: 413 over <paramref name="limit"/>, and whatever Kestrel
    /// refused while reading it (a malformed chunked body is 400, a body sent too slowly is 408).
    /// </summary>
    public static async Task<(ReadOnlyMemory<byte>? Body, ApiProblem? Problem)> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return (null, Problems.BodyTooLarge(limit));
        }

        // Kestrel's own cap backs this up; the test server has none, and chunked bodies have no length. A declared length
        // sizes the buffer once: grown by doubling, a body of 8 MiB left 16 MiB of copies behind it.
        var buffer = new ArrayBufferWriter<byte>(request.ContentLength is > 0 and var length ? (int)Math.Min(length + 1, limit + 1) : 16 * 1024);
        while (true)
        {
            var memory = buffer.GetMemory(16 * 1024);
            int read;
            try
            {
                read = await request.Body.ReadAsync(memory, cancellationToken);
            }
            catch (BadHttpRequestException ex)
            {
                // Kestrel's refusals are the caller's doing: answered as problems with a code, never left to become a 500.
                return (null, Problems.FromKestrel(ex.StatusCode, limit));
            }
            catch (IOException)
            {
                // Kestrel throws this for a chunk size that overflows (and for a client that went away, which reads no answer).
                return (null, Problems.FromKestrel(StatusCodes.Status400BadRequest, limit));
            }

            if (read == 0)
            {
                // The buffer's own memory, not a copy: a copy was one more body-sized array per call at its peak.
                return (buffer.WrittenMemory, null);
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > limit)
            {
                return (null, Problems.BodyTooLarge(limit));
            }

            // A chunked body declared no length: what it takes is reserved as it comes (RequestBodyBudget).
            if (RequestBodyBudget.LeaseOf(request.HttpContext) is { } lease && lease.TryGrow(buffer.WrittenCount) is { } refused)
            {
                request.HttpContext.Response.Headers.Connection = "close";
                return (null, refused);
            }
        }
    }
}
