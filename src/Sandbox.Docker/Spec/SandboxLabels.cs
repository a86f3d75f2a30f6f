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
}
