using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Sandbox.Server.Http;

/// <summary>Reads a request body up to a cap: past it the caller answers 413 without buffering the rest.</summary>
internal static class BodyReader
{
    /// <summary>The body's bytes, or null when it is over <paramref name="limit"/>.</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        // Kestrel's own cap backs this up; the test server has none, and chunked bodies have no length.
        var buffer = new ArrayBufferWriter<byte>();
        while (true)
        {
            var memory = buffer.GetMemory(16 * 1024);
            int read;
            try
            {
                read = await request.Body.ReadAsync(memory, cancellationToken);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return null;
            }

            if (read == 0)
            {
                return buffer.WrittenSpan.ToArray();
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > limit)
            {
                return null;
            }
        }
    }
}
