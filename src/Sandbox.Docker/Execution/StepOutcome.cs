using Sandbox.Core.Runs;

namespace Sandbox.Docker.Execution;

/// <summary>What happened to one container step, measured on the host.</summary>
internal sealed record StepOutcome
{
    /// <summary>The exit status the daemon reported; null when it never did (it was lost, or the container vanished).</summary>
    public required long? ExitCode { get; init; }
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

    /// <summary>The daemon stopped answering during the step: the end was observed (and any deadline held) through the cgroup, and output it had not passed on is missing.</summary>
    public bool DaemonLost { get; init; }

    /// <summary>The container was removed from outside the service (<c>docker rm -f</c>) while the program ran.</summary>
    public bool Vanished { get; init; }

    /// <summary>The files handed back from <c>/tmp/outputs</c>; null when the step took none back.</summary>
    public IReadOnlyList<RunArtifact>? Artifacts { get; init; }

    /// <summary>The files under <c>/tmp/outputs</c> that were dropped, with the reason; null when none.</summary>
    public IReadOnlyList<DroppedArtifact>? ArtifactsDropped { get; init; }

    /// <summary>An outcome whose output is what the two collectors kept and counted: the one place that copies them (a step's end, and its recovery after a restart).</summary>
    public static StepOutcome Collected(
        long? exitCode, bool oomKilled, KillReason killReason, OutputCollector stdout, OutputCollector stderr, long wallMs, long cpuMs, long peakMemoryBytes) => new()
        {
            ExitCode = exitCode,
            OomKilled = oomKilled,
            KillReason = killReason,
            Stdout = stdout.ToArray(),
            Stderr = stderr.ToArray(),
            StdoutTotal = stdout.TotalBytes,
            StderrTotal = stderr.TotalBytes,
            StdoutTruncated = stdout.Truncated,
            StderrTruncated = stderr.Truncated,
            WallMs = wallMs,
            CpuMs = cpuMs,
            PeakMemoryBytes = peakMemoryBytes,
        };

    /// <summary>What the step used, as a result reports it (output counted whole, before any cap cut it).</summary>
    public ResourceUsage Usage => new()
    {
        WallMs = WallMs,
        CpuMs = CpuMs,
        PeakMemoryBytes = PeakMemoryBytes,
        OutputBytes = StdoutTotal + StderrTotal,
    };
}
