namespace Sandbox.Core.Runs;

/// <summary>What a run used, as measured by the backend.</summary>
public sealed record ResourceUsage
{
    public static ResourceUsage None { get; } = new();

    /// <summary>Wall-clock time from start to exit, in milliseconds.</summary>
    public long WallMs { get; init; }

    /// <summary>CPU time of all the run's processes, in milliseconds.</summary>
    public long CpuMs { get; init; }

    /// <summary>Largest memory footprint seen, in bytes.</summary>
    public long PeakMemoryBytes { get; init; }

    /// <summary>Bytes written to stdout and stderr together, including any past the cap.</summary>
    public long OutputBytes { get; init; }
}
