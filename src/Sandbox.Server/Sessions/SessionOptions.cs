using Sandbox.Core.Runs;

namespace Sandbox.Server.Sessions;

/// <summary>
/// Sessions' settings, bound from <c>Sandbox:Sessions</c> (<c>--Sandbox:Sessions:IdleTimeout=00:02:00</c>) and validated
/// once at start-up, every error naming its key.
/// </summary>
public sealed class SessionOptions
{
    public const string Section = "Sessions";

    /// <summary>A session with no cell for this long is closed and its container removed.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A session is closed this long after it opened, whatever it is doing.</summary>
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>CPU time one session's kernel may use over its life (the RLIMIT_CPU backstop of its container), in milliseconds.</summary>
    public long CpuBudgetMs { get; set; } = 10 * 60 * 1000;

    /// <summary>
    /// CPU, in milliseconds, a session's kernel may use between cells over its whole life; past it the session is closed
    /// (<c>idle_cpu</c>). A cell is charged its cgroup's CPU over the cell alone, so a process or thread it leaves busy
    /// would otherwise run on between cells, outside every cell's limit and the agent's budget, taking the CPU other runs
    /// need (a cell that started three busy processes answered <c>ok</c> with 18 ms and they ran on at a full CPU).
    /// An idle interpreter uses next to none; a timer a cell left ticking, a few ms an hour.
    /// </summary>
    public long IdleCpuMs { get; set; } = 2000;

    /// <summary>How often idle, expired and revoked sessions are looked for.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a closed session still answers GET (with why it closed) before it is forgotten.</summary>
    public TimeSpan ClosedRetention { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Every invalid setting, each naming its key and the range it must be in.</summary>
    public IReadOnlyList<FieldError> Validate(string prefix)
    {
        var errors = new List<FieldError>();
        Positive(nameof(IdleTimeout), IdleTimeout);
        Positive(nameof(MaxLifetime), MaxLifetime);
        Positive(nameof(SweepInterval), SweepInterval);
        Positive(nameof(ClosedRetention), ClosedRetention);
        if (IdleCpuMs is < 100 or > 3_600_000)
        {
            errors.Add(new FieldError($"{prefix}:{nameof(IdleCpuMs)}", $"is {IdleCpuMs}; use 100 to 3600000"));
        }

        if (CpuBudgetMs < 1000)
        {
            errors.Add(new FieldError($"{prefix}:{nameof(CpuBudgetMs)}", $"is {CpuBudgetMs}; it must be at least 1000"));
        }

        return errors;

        void Positive(string name, TimeSpan value)
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add(new FieldError($"{prefix}:{name}", $"is {value}; it must be a positive time span such as 00:10:00"));
            }
        }
    }
}
