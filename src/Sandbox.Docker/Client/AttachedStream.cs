using System.Net.Sockets;

namespace Sandbox.Docker.Client;

/// <summary>
/// A hijacked attach connection: stdin is written raw to the socket; stdout and stderr are read through a
/// <see cref="MultiplexedStreamReader"/> over the bytes that follow the HTTP head.
/// </summary>
/// <remarks>
/// One writer and one reader may run at the same time (a socket is full duplex); two concurrent readers or
/// two concurrent writers may not.
/// </remarks>
internal sealed class AttachedStream : IAttachedStream
{
    private readonly Socket _socket;
    private readonly NetworkStream _network;
    private readonly MultiplexedStreamReader _reader;
    private readonly string _containerId;
    private int _stdinClosed;
    private int _disposed;

    /// <param name="socket">The connected socket, after the upgrade; this instance owns it.</param>
    /// <param name="network">A stream over <paramref name="socket"/> that owns it.</param>
    /// <param name="alreadyRead">Bytes read past the HTTP head: the start of the multiplexed stream.</param>
    /// <param name="containerId">For error messages.</param>
    public AttachedStream(Socket socket, NetworkStream network, ReadOnlyMemory<byte> alreadyRead, string containerId)
    {
        _socket = socket;
        _network = network;
        _containerId = containerId;
        _reader = new MultiplexedStreamReader(new PrefixedReadStream(alreadyRead, network));
    }

    /// <inheritdoc />
    public async ValueTask WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Volatile.Read(ref _stdinClosed) != 0)
        {
            throw new InvalidOperationException("stdin was already closed; write all input before CloseStdinAsync");
        }

        try
        {
            await _network.WriteAsync(data, cancellationToken);
        }
        catch (IOException ex)
        {
            throw Broken("writing stdin", ex);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// A half-close (shutdown of our sending side) is how the daemon learns stdin ended; with
    /// <c>StdinOnce</c> it then closes the container's stdin. Safe to call more than once.
    /// </remarks>
    public ValueTask CloseStdinAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _stdinClosed, 1) == 0)
        {
            try
            {
                _socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException ex)
            {
                throw Broken("closing stdin", ex);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async ValueTask<(StdStream Stream, int Count)> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        try
        {
            return await _reader.ReadAsync(buffer, cancellationToken);
        }
        catch (IOException ex)
        {
            throw Broken("reading output", ex);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // The NetworkStream owns the socket: disposing it closes the connection, which ends any pending read.
            _network.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    private DockerUnavailableException Broken(string doing, Exception inner) => new(
        $"the attach connection to container {_containerId} broke while {doing}: {inner.Message}; did dockerd restart?",
        DockerOperation.AttachContainer.Endpoint(),
        inner);
}
