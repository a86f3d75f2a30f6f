using System.Buffers.Binary;

namespace Sandbox.Wasm.Worker;

/// <summary>What a frame between the service and a WebAssembly worker carries.</summary>
internal enum FrameType : byte
{
    /// <summary>Service → worker: the <see cref="WorkerRequest"/> as UTF-8 JSON. Always first.</summary>
    Request = 1,

    /// <summary>Service → worker: the module's bytes. Always second.</summary>
    Module = 2,

    /// <summary>
    /// Service → worker: a warm worker's <see cref="WorkerRequest"/> template (no run id, files or stdin), then the module.
    /// The worker pre-initialises the guest up to its first call that could see a run, sends <see cref="Parked"/>, and
    /// waits for the run's <see cref="Request"/> (same profile and limits, checked) before anything else happens.
    /// </summary>
    Prepare = 3,

    /// <summary>
    /// Service → worker, third, to a warm worker whose template says <see cref="WarmSnapshotMode.Restore"/>: a
    /// <see cref="GuestSnapshotFile"/> another warm worker of the same key captured. Checked before use.
    /// </summary>
    Snapshot = 4,

    /// <summary>Worker → service: the request was read and the engine is about to compile; the service takes its CPU baseline here.</summary>
    Ready = 16,

    /// <summary>Worker → service: bytes the guest wrote to fd 1, within the cap.</summary>
    Stdout = 17,

    /// <summary>Worker → service: bytes the guest wrote to fd 2, within the cap.</summary>
    Stderr = 18,

    /// <summary>Worker → service: a warm worker is pre-initialised and waits for its run's request.</summary>
    Parked = 20,

    /// <summary>
    /// Worker → service, just before <see cref="Parked"/> and only then, from a warm worker told to
    /// <see cref="WarmSnapshotMode.Take"/>: its guest at the gate as a <see cref="GuestSnapshotFile"/>. Before any run
    /// reaches the worker, so it holds nothing of a run.
    /// </summary>
    Captured = 23,

    /// <summary>Worker → service: a file from <c>/tmp/outputs</c> follows: its size (8 bytes, little-endian) and its path (UTF-8). Before the result.</summary>
    ArtifactBegin = 21,

    /// <summary>Worker → service: the next bytes of the file the last <see cref="ArtifactBegin"/> named, at most <see cref="WorkerFrames.MaxOutputChunkBytes"/>.</summary>
    ArtifactData = 22,

    /// <summary>Worker → service: the <see cref="Backend.WasmOutcome"/> as UTF-8 JSON. Always last.</summary>
    Result = 19,
}

/// <summary>One frame: a type and its payload.</summary>
internal readonly record struct Frame(FrameType Type, byte[] Payload);

/// <summary>
/// The worker protocol's framing: a one-byte <see cref="FrameType"/>, the payload's length as a little-endian
/// 32-bit integer, then the payload. Both sides bound the length before allocating anything, so a worker that
/// answers garbage (a bug, or a guest that broke out of the engine) can make the service read at most one
/// bounded frame before it is killed.
/// </summary>
internal static class WorkerFrames
{
    public const int HeaderBytes = 5;

    /// <summary>Largest output chunk a worker sends; longer writes are split.</summary>
    public const int MaxOutputChunkBytes = 64 * 1024;

    public static void Write(Stream stream, FrameType type, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        header[0] = (byte)type;
        BinaryPrimitives.WriteInt32LittleEndian(header[1..], payload.Length);
        stream.Write(header);
        stream.Write(payload);
    }

    public static async ValueTask WriteAsync(Stream stream, FrameType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var header = new byte[HeaderBytes];
        header[0] = (byte)type;
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(1), payload.Length);
        await stream.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(payload, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads one frame; null at a clean end of stream before any header byte.</summary>
    /// <exception cref="InvalidDataException">A truncated frame, an unknown type or a length above <paramref name="maxPayloadBytes"/>.</exception>
    public static async ValueTask<Frame?> ReadAsync(Stream stream, int maxPayloadBytes, CancellationToken cancellationToken)
    {
        var header = new byte[HeaderBytes];
        var read = await stream.ReadAtLeastAsync(header, HeaderBytes, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            return null;
        }

        var (type, length) = ParseHeader(header, read, maxPayloadBytes);
        var payload = new byte[length];
        if (await stream.ReadAtLeastAsync(payload, length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < length)
        {
            throw new InvalidDataException($"a {type} frame ended after fewer than its {length} bytes");
        }

        return new Frame(type, payload);
    }

    /// <summary>The synchronous form, for the worker's own single-threaded reading.</summary>
    public static Frame? Read(Stream stream, int maxPayloadBytes)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        var read = stream.ReadAtLeast(header, HeaderBytes, throwOnEndOfStream: false);
        if (read == 0)
        {
            return null;
        }

        var (type, length) = ParseHeader(header, read, maxPayloadBytes);
        var payload = new byte[length];
        if (stream.ReadAtLeast(payload, length, throwOnEndOfStream: false) < length)
        {
            throw new InvalidDataException($"a {type} frame ended after fewer than its {length} bytes");
        }

        return new Frame(type, payload);
    }

    private static (FrameType Type, int Length) ParseHeader(ReadOnlySpan<byte> header, int read, int maxPayloadBytes)
    {
        if (read < HeaderBytes)
        {
            throw new InvalidDataException("the stream ended inside a frame header");
        }

        var type = (FrameType)header[0];
        if (!Enum.IsDefined(type))
        {
            throw new InvalidDataException($"unknown frame type {header[0]}");
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(header[1..]);
        if (length < 0 || length > maxPayloadBytes)
        {
            throw new InvalidDataException($"a {type} frame of {length} bytes is outside 0..{maxPayloadBytes}");
        }

        return (type, length);
    }
}
