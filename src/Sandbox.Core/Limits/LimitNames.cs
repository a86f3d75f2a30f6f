namespace Sandbox.Core.Limits;

/// <summary>The wire names of limits, shared by validation messages, breaches and the CLI.</summary>
public static class LimitNames
{
    public const string WallTimeMs = "wallTimeMs";
    public const string CpuTimeMs = "cpuTimeMs";
    public const string MemoryBytes = "memoryBytes";
    public const string Pids = "pids";
    public const string StdoutBytes = "stdoutBytes";
    public const string StderrBytes = "stderrBytes";
    public const string FileSizeBytes = "fileSizeBytes";
    public const string TmpBytes = "tmpBytes";

    /// <summary>Not a resource limit: a wasm profile's optional instruction budget, named in a breach when it stops a run.</summary>
    public const string Fuel = "fuel";
}
