using System.Buffers.Binary;

namespace Sandbox.Docker.Client;

/// <summary>
/// Demultiplexes Docker's attach stream for containers without a TTY: each frame is an 8-byte header
/// (stream type, three zero bytes, big-endian uint32 payload length) followed by the payload.
/// Works on any <see cref="Stream"/>, so it is tested without a daemon.
/// </summary>
/// <remarks>
/// Not thread-safe: one reader at a time (writes to stdin go to the socket, not through this type).
/// See https://docs.docker.com/engine/api/v1.41/#operation/ContainerAttach ("Stream format").
/// </remarks>
internal sealed class MultiplexedStreamReader
{
    /// <summary>Size of a frame header.</summary>
    public const int HeaderSize = 8;

    private readonly Stream _stream;
    private readonly byte[] _header = new byte[HeaderSize];
    private StdStream _current;
    private long _remaining;

    public MultiplexedStreamReader(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
    }

    /// <summary>
    /// Reads payload bytes of the current frame (a frame larger than <paramref name="buffer"/> is returned over
    /// several calls; a read never spans two frames). A count of 0 means the stream ended cleanly between frames.
    /// </summary>
    /// <exception cref="DockerUnavailableException">The stream ended inside a header or a payload.</exception>
    /// <exception cref="DockerException">A header names an unknown stream: the container was created with a TTY.</exception>
    public async ValueTask<(StdStream Stream, int Count)> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (buffer.IsEmpty)
        {
            // A zero-byte read would be indistinguishable from end of stream.
            throw new ArgumentException("the buffer must hold at least one byte", nameof(buffer));
        }

        // Zero-length frames are legal; skip them rather than report a count of 0, which means end of stream.
        while (_remaining == 0)
        {
            if (!await ReadHeaderAsync(cancellationToken))
            {
                return (StdStream.Stdout, 0);
            }
        }

        int wanted = (int)Math.Min(_remaining, buffer.Length);
        int read = await _stream.ReadAsync(buffer[..wanted], cancellationToken);
        if (read == 0)
        {
            throw Truncated($"inside a {_remaining}-byte {_current} payload");
        }

        _remaining -= read;
        return (_current, read);
    }

    /// <summary>Reads one header; false at a clean end of stream (no byte of a new header).</summary>
    private async ValueTask<bool> ReadHeaderAsync(CancellationToken cancellationToken)
    {
        int filled = 0;
        while (filled < HeaderSize)
        {
            int read = await _stream.ReadAsync(_header.AsMemory(filled), cancellationToken);
            if (read == 0)
            {
                return filled == 0 ? false : throw Truncated($"in a frame header ({filled} of {HeaderSize} bytes)");
            }

            filled += read;
        }

        byte type = _header[0];
        if (type > (byte)StdStream.Stderr)
        {
            throw new DockerException(
                $"the attach stream has a frame of unknown stream type {type}; the container was probably created with Tty=true, which Sandbox never uses (create it with Tty=false)",
                DockerOperation.AttachContainer.Endpoint());
        }

        _current = (StdStream)type;
        _remaining = BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(4));
        return true;
    }

    private static DockerUnavailableException Truncated(string where) => new(
        $"the attach stream ended {where}; the connection to dockerd broke (did the daemon restart?)",
        DockerOperation.AttachContainer.Endpoint());
}
