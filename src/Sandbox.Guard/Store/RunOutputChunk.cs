namespace Sandbox.Guard.Store;

/// <summary>
/// Part of a running run's output as it streamed (see <see cref="IGuardStore.AppendRunOutputAsync"/>): bytes of one stream,
/// in the order written. Kept only while the run is open; its end keeps the output in its view instead.
/// </summary>
public sealed record RunOutputChunk(string RunId, bool IsStderr, ReadOnlyMemory<byte> Bytes)
{
    /// <summary>Its place in the store's order of writes (ascending, with gaps); 0 for a chunk not yet written.</summary>
    public long Seq { get; init; }
}
