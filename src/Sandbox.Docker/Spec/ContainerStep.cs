using Sandbox.Core.Limits;

namespace Sandbox.Docker.Spec;

/// <summary>One sandboxed step of a run (the compile step or the run step): what to start and within what limits.</summary>
public sealed record ContainerStep
{
    public required string RunId { get; init; }

    /// <summary><c>run</c> or <c>compile</c>; it goes into the container's labels.</summary>
    public required string StepName { get; init; }

    public required string Image { get; init; }

    /// <summary>The argv run by <c>sandbox-entry</c> once the files are in place.</summary>
    public required IReadOnlyList<string> Command { get; init; }

    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    public required ResourceLimits Limits { get; init; }

    public required string Runtime { get; init; }

    public bool TmpExec { get; init; }

    /// <summary>The cgroup parent under which the container's cgroup is made; it outlives the container so usage can be read after exit.</summary>
    public required string CgroupParent { get; init; }

    /// <summary>When the reaper may remove the container if it is still around (Unix milliseconds).</summary>
    public required long DeadlineUnixMs { get; init; }

    /// <summary>When the wall-clock limit ends if the step started now (Unix milliseconds); recovery after a crash holds it.</summary>
    public required long KillAtUnixMs { get; init; }

    /// <summary>The profile's compile-error exit code, for recovery's classification.</summary>
    public int? CompileErrorExitCode { get; init; }

    /// <summary>For a run step after a compile step: the CPU the compiler used, in its label so recovery can charge it too.</summary>
    public long? CompileCpuMs { get; init; }

    /// <summary>
    /// Set on a warm-pool container's step (the pool's process id): it is made before any run claims it, so it carries
    /// <see cref="SandboxLabels.Pool"/> instead of a run id. Null for a run's own container.
    /// </summary>
    public string? Pool { get; init; }

    /// <summary>For a run step whose profile returns artifacts: the marker's nonce and the caps; null for none (the compile step, the pool's template).</summary>
    public Artifacts.ArtifactCapture? Artifacts { get; init; }

    /// <summary>
    /// Set on a session's kernel container (the owning service's mark): it stays up between cells, and the reaper removes it
    /// once it is no longer running (its service died and closed its stdin). Null for a run's own container.
    /// </summary>
    public string? Session { get; init; }

    /// <summary>Receives output as it arrives (the run step's, for the event stream); null for none.</summary>
    public Core.Execution.IRunOutputSink? Output { get; init; }
}
