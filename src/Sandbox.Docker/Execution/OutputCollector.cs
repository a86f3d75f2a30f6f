using System.Buffers;

namespace Sandbox.Docker.Execution;

/// <summary>
/// Keeps up to a cap of one stream's bytes and counts everything seen. The cap is enforced while reading:
/// the first byte past it reports the breach so the step can be killed at once.
/// </summary>
internal sealed class OutputCollector
{
    private readonly long _cap;
    private readonly ArrayBufferWriter<byte> _kept = new();

    public OutputCollector(long cap) => _cap = cap;

    /// <summary>Every byte the program wrote to this stream, including those past the cap.</summary>
    public long TotalBytes { get; private set; }

    public bool Truncated => TotalBytes > _cap;

    public long Cap => _cap;

    /// <summary>How many bytes are kept (at most the cap).</summary>
    public int KeptBytes => _kept.WrittenCount;

    /// <summary>Appends a chunk; returns true when this chunk crossed the cap.</summary>
    public bool Append(ReadOnlySpan<byte> chunk)
    {
        var wasOver = Truncated;
        var room = (int)Math.Max(0, Math.Min(chunk.Length, _cap - _kept.WrittenCount));
        _kept.Write(chunk[..room]);
        TotalBytes += chunk.Length;
        return !wasOver && Truncated;
    }

    public byte[] ToArray() => _kept.WrittenSpan.ToArray();
}
