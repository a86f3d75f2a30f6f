namespace Sandbox.Core.Limits;

/// <summary>
/// The hard limits of one run. A profile carries the ceiling; a request may only tighten it
/// (see <see cref="LimitOverrides"/>); the result reports the effective values that were enforced.
/// </summary>
public sealed record ResourceLimits
{
    /// <summary>Wall-clock deadline, enforced from the host.</summary>
    public required long WallTimeMs { get; init; }

    /// <summary>CPU time over all processes of the run, measured from the cgroup.</summary>
    public required long CpuTimeMs { get; init; }

    /// <summary>Memory (RAM; swap is never allowed on top).</summary>
    public required long MemoryBytes { get; init; }

    /// <summary>Processes and threads alive at once.</summary>
    public required int Pids { get; init; }

    /// <summary>Bytes of stdout kept; past it the run is killed with <c>output_limit</c>.</summary>
    public required long StdoutBytes { get; init; }

    /// <summary>Bytes of stderr kept; past it the run is killed with <c>output_limit</c>.</summary>
    public required long StderrBytes { get; init; }

    /// <summary>Largest file the program may write (RLIMIT_FSIZE).</summary>
    public required long FileSizeBytes { get; init; }

    /// <summary>Size of the writable <c>/tmp</c>.</summary>
    public required long TmpBytes { get; init; }

    /// <summary>Names and values in wire order, for messages and validation.</summary>
    public IEnumerable<(string Name, long Value)> Enumerate()
    {
        yield return (LimitNames.WallTimeMs, WallTimeMs);
        yield return (LimitNames.CpuTimeMs, CpuTimeMs);
        yield return (LimitNames.MemoryBytes, MemoryBytes);
        yield return (LimitNames.Pids, Pids);
        yield return (LimitNames.StdoutBytes, StdoutBytes);
        yield return (LimitNames.StderrBytes, StderrBytes);
        yield return (LimitNames.FileSizeBytes, FileSizeBytes);
        yield return (LimitNames.TmpBytes, TmpBytes);
    }
}
