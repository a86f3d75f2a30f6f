namespace Sandbox.Core.Limits;

/// <summary>Per-request limits. Each value may only tighten the profile's; null keeps the profile's.</summary>
public sealed record LimitOverrides
{
    public long? WallTimeMs { get; init; }
    public long? CpuTimeMs { get; init; }
    public long? MemoryBytes { get; init; }
    public int? Pids { get; init; }
    public long? StdoutBytes { get; init; }
    public long? StderrBytes { get; init; }
    public long? FileSizeBytes { get; init; }
    public long? TmpBytes { get; init; }
}
