namespace Sandbox.Docker.Execution;

/// <summary>What happened to one container step, measured on the host.</summary>
internal sealed record StepOutcome
{
    public required long ExitCode { get; init; }
    public required bool OomKilled { get; init; }
    public required KillReason KillReason { get; init; }
    public required byte[] Stdout { get; init; }
    public required byte[] Stderr { get; init; }
    public required long StdoutTotal { get; init; }
    public required long StderrTotal { get; init; }
    public required bool StdoutTruncated { get; init; }
    public required bool StderrTruncated { get; init; }
    public required long WallMs { get; init; }
    public required long CpuMs { get; init; }
    public required long PeakMemoryBytes { get; init; }
}
