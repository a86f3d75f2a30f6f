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

    /// <summary>
    /// CPU time of the compile step, in milliseconds, when the profile has one and the program compiled (a failed
    /// compile is the run: its usage is the compiler's). Not part of <see cref="CpuMs"/>, which is the program's
    /// alone; the guard charges both to the agent's CPU budget.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public long? CompileCpuMs { get; init; }
}
