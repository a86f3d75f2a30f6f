namespace Sandbox.Core.Limits;

/// <summary>Per-request limits. Each value may only tighten the profile's; null keeps the profile's.</summary>
public sealed record LimitOverrides
{
    /// <summary>Wall-clock time, in milliseconds.</summary>
    public long? WallTimeMs { get; init; }

    /// <summary>CPU time, in milliseconds.</summary>
    public long? CpuTimeMs { get; init; }

    /// <summary>Memory, in bytes.</summary>
    public long? MemoryBytes { get; init; }

    /// <summary>Processes and threads at once.</summary>
    public int? Pids { get; init; }

    /// <summary>Bytes of stdout kept; more is cut.</summary>
    public long? StdoutBytes { get; init; }

    /// <summary>Bytes of stderr kept; more is cut.</summary>
    public long? StderrBytes { get; init; }

    /// <summary>Largest file the program may write, in bytes.</summary>
    public long? FileSizeBytes { get; init; }

    /// <summary>Space in the writable /tmp, in bytes.</summary>
    public long? TmpBytes { get; init; }
}
