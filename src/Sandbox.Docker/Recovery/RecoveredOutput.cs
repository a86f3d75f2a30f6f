namespace Sandbox.Docker.Recovery;

/// <summary>What a run printed before the crash, as far as the service persisted it while it streamed.</summary>
public sealed record RecoveredOutput(ReadOnlyMemory<byte> Stdout, ReadOnlyMemory<byte> Stderr)
{
    public static readonly RecoveredOutput None = new(ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty);
}
