namespace Sandbox.Guard.Agents;

/// <summary>
/// One agent: who it is, what it may run and how much. Allow-lists are explicit: an agent with no
/// profiles can run nothing (fail closed; there is no wildcard).
/// </summary>
public sealed record Agent
{
    /// <summary>Stable id, <c>agt_</c> and 16 lowercase hex characters.</summary>
    public required string Id { get; init; }

    /// <summary>Unique operator-chosen name: 1 to 64 of <c>a-z 0-9 - _ .</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The profiles its key may use, by exact name.</summary>
    public required IReadOnlyList<string> Profiles { get; init; }

    /// <summary>Runs admitted per minute at most (sliding window).</summary>
    public required int RatePerMinute { get; init; }

    /// <summary>Runs queued or running at once at most.</summary>
    public required int MaxConcurrentRuns { get; init; }

    /// <summary>Measured CPU seconds per UTC day at most.</summary>
    public required double DailyCpuSeconds { get; init; }

    /// <summary>Runs admitted per UTC day at most.</summary>
    public required int DailyRuns { get; init; }

    /// <summary>
    /// The sum of the memory limits of its open sessions at most, in MiB: a session holds its container's memory while it
    /// idles, so the count cap alone would let one agent pin a host's memory with a few big profiles.
    /// </summary>
    public int MaxSessionMemoryMb { get; init; } = DefaultSessionMemoryMb;

    /// <summary>What <see cref="MaxSessionMemoryMb"/> is when an operator does not name it: four sessions of the default 256 MiB.</summary>
    public const int DefaultSessionMemoryMb = 1024;

    /// <summary>
    /// Sessions open (and being opened) at once at most; 0 lets it open none. Each holds a container and its interpreter
    /// for as long as it lives, so one agent's share of the host is bounded here, beside its other budgets.
    /// </summary>
    public int MaxOpenSessions { get; init; } = DefaultOpenSessions;

    /// <summary>What <see cref="MaxOpenSessions"/> is when an operator does not name it.</summary>
    public const int DefaultOpenSessions = 4;

    /// <summary>
    /// What its runs may add to the store per UTC day at most, in MiB: their code, stdin and files (kept in the audit log
    /// for good) and their output and artifacts (kept for the result retention). Within its rate alone, one agent's runs of
    /// 1 MiB of code and full outputs wrote about 10 MB each, 0.6 GB a minute: the disk every other agent's runs need.
    /// </summary>
    public int DailyStoredMb { get; init; } = DefaultDailyStoredMb;

    /// <summary>What <see cref="DailyStoredMb"/> is when an operator does not name it: a thousand runs of a MiB each.</summary>
    public const int DefaultDailyStoredMb = 1024;

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>After this the agent's key and tokens stop working.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>Set once, when revoked; a revoked agent never comes back (create a new one).</summary>
    public DateTimeOffset? RevokedAt { get; init; }

    public string? RevokedReason { get; init; }

    /// <summary>When set, every run of this agent waits for a human (set by an operator or an alert).</summary>
    public bool UnderApproval { get; init; }

    public string? UnderApprovalReason { get; init; }

    public bool IsActive(DateTimeOffset now) => RevokedAt is null && now < ExpiresAt;
}
