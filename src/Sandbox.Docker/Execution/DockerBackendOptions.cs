namespace Sandbox.Docker.Execution;

/// <summary>Tuning of the Docker backend; defaults suit a small host.</summary>
public sealed record DockerBackendOptions
{
    /// <summary>How long after the wrapper's end line the cgroup may take to empty before the end is left to the daemon.</summary>
    public TimeSpan WrapperSettleGrace { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How often CPU time and memory are sampled from the cgroup while a step runs.</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>How long after a kill the daemon has to report the exit before we call it broken.</summary>
    public TimeSpan KillGrace { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Added to a step's wall-clock limit to form the deadline label the reaper honours.</summary>
    public TimeSpan ReapGrace { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long output may trail the end, and the daemon may take to confirm a kill, when it has stopped answering: the result does not wait for it.</summary>
    public TimeSpan DrainWithoutDaemon { get; init; } = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// How long the daemon may take to confirm the exit of a step we killed before it counts as not answering: a healthy
    /// daemon takes milliseconds, a loaded one a moment; past this the result is recorded without it (the processes are gone).
    /// </summary>
    public TimeSpan DaemonConfirmGrace { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a program that ended on its own waits for a stalled or lost daemon to tell its exit code; past it the result says the code is unknown.</summary>
    public TimeSpan DaemonReturnGrace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a lost daemon is asked again (for an exit code, or to remove a container).</summary>
    public TimeSpan DaemonPollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a container the daemon could not remove at the end of its run is retried in the background; the reaper takes over after.</summary>
    public TimeSpan RemoveLaterFor { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How many settled containers may be being removed after their results were returned; past it a run's result waits for
    /// its own removal, so a burst cannot leave the daemon an unbounded backlog.
    /// </summary>
    public int MaxBackgroundRemovals { get; init; } = 16;

    /// <summary>Read buffer for the attach stream.</summary>
    public int ReadBufferBytes { get; init; } = 64 * 1024;
}
