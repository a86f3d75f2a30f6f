namespace Sandbox.Docker.Execution;

/// <summary>Tuning of the Docker backend; defaults suit a small host.</summary>
internal sealed record DockerBackendOptions
{
    /// <summary>How often CPU time and memory are sampled from the cgroup while a step runs.</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>How long after a kill the daemon has to report the exit before we call it broken.</summary>
    public TimeSpan KillGrace { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Added to a step's wall-clock limit to form the deadline label the reaper honours.</summary>
    public TimeSpan ReapGrace { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Read buffer for the attach stream.</summary>
    public int ReadBufferBytes { get; init; } = 64 * 1024;
}
