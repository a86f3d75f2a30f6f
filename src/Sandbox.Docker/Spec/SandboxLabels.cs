namespace Sandbox.Docker.Spec;

/// <summary>Labels put on every container we create, so the reaper can find and reconcile them.</summary>
internal static class SandboxLabels
{
    /// <summary>Marks a container as ours; the reaper never touches a container without it.</summary>
    public const string Managed = "io.sandbox.managed";
    public const string RunId = "io.sandbox.run-id";
    public const string Step = "io.sandbox.step";

    /// <summary>Unix milliseconds after which the container has outlived its run and may be removed.</summary>
    public const string Deadline = "io.sandbox.deadline";

    /// <summary>Unix milliseconds at which the step's wall-clock limit ends: start-up recovery kills it there (through its cgroup).</summary>
    public const string KillAt = "io.sandbox.kill-at";

    /// <summary>The step's parent cgroup, so its processes can be found, measured and killed without asking the daemon.</summary>
    public const string CgroupParent = "io.sandbox.cgroup-parent";

    /// <summary>The limits the step was classified against (<c>name=value;…</c>, with the profile's compile-error exit code when it has one), so recovery judges its end as the run would have.</summary>
    public const string Limits = "io.sandbox.limits";

    /// <summary>
    /// On a warm-pool container instead of <see cref="RunId"/>: the id of the service process that made it. Unclaimed, it
    /// serves no run; once claimed, its name carries the run (see <see cref="Pooling.ClaimName"/>).
    /// </summary>
    public const string Pool = "io.sandbox.pool";

    /// <summary>On a session's kernel container: the mark of the service that owns it (see <see cref="ContainerStep.Session"/>).</summary>
    public const string Session = "io.sandbox.session";
}
