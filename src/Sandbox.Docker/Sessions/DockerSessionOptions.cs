namespace Sandbox.Docker.Sessions;

/// <summary>What bounds one session's kernel over its whole life (each cell has its own limits besides).</summary>
public sealed record DockerSessionOptions
{
    /// <summary>The session ends this long after it opened, whatever it is doing.</summary>
    public TimeSpan MaxLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// CPU time the kernel may use over its life, in milliseconds: the RLIMIT_CPU backstop of its container (a cell's own CPU
    /// limit is the cgroup's delta over the cell). Between cells nothing else is charged, so this caps a thread left spinning.
    /// </summary>
    public long CpuBudgetMs { get; init; } = 10 * 60 * 1000;
}
