using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;

namespace Sandbox.Guard.Store;

/// <summary>
/// Everything one step of a run's life writes, committed by <see cref="IGuardStore.CommitAsync"/> in one transaction or
/// not at all: the run's row (new, or completed), the usage it charges, an approval it waits for, a hold an alert put on
/// its agent, and the audit records that say so, in order. A run is then never half-recorded: a full disk leaves it as
/// it was before the step, with nothing charged and no record claiming otherwise.
/// </summary>
public sealed record RunTransition
{
    /// <summary>A new row (admission): fails the whole transition when its idempotency key is already bound.</summary>
    public StoredRun? Admit { get; init; }

    /// <summary>The run's new state while it is open (<c>queued</c> once approved, <c>running</c> once started).</summary>
    public RunStateChange? Move { get; init; }

    /// <summary>The run's end; when its row is already completed the whole transition is rolled back (the first end wins).</summary>
    public RunCompletion? Complete { get; init; }

    /// <summary>Runs and CPU added to subjects' usage (an agent per UTC day, a task token for its life).</summary>
    public IReadOnlyList<UsageCharge> Charges { get; init; } = [];

    /// <summary>The approval a run waits for.</summary>
    public Approval? Approval { get; init; }

    /// <summary>The approval of a run that ends while waiting for a human, closed (expired, by the system) unless someone decided it first.</summary>
    public ApprovalClosing? Withdraw { get; init; }

    /// <summary>Agents an alert puts under approval (their admin records are among <see cref="Audit"/>).</summary>
    public IReadOnlyList<AgentHold> Holds { get; init; } = [];

    /// <summary>The audit records of the step, appended in this order after the writes above.</summary>
    public IReadOnlyList<AuditEntry> Audit { get; init; } = [];
}

/// <summary>An open run's new state; a completed row is left as it is.</summary>
public sealed record RunStateChange(string RunId, string State);

/// <summary>A run's end as its row keeps it; <see cref="ExpiresAt"/> moves the row's expiry when given.</summary>
public sealed record RunCompletion(string RunId, string Status, string? Reason, DateTimeOffset CompletedAt, string? View, DateTimeOffset? ExpiresAt)
{
    /// <summary>The files the run returned, written with its end in the same transaction (a result never names a file the store lacks).</summary>
    public IReadOnlyList<StoredArtifact> Artifacts { get; init; } = [];
}

/// <summary>An approval closed as expired by the system, with the record written only when it was still pending.</summary>
public sealed record ApprovalClosing(string ApprovalId, string Note, DateTimeOffset At, AuditEntry Audit);

/// <summary>Usage added to a subject in a period (see <see cref="IGuardStore.AddUsageAsync"/>); <paramref name="StoredBytes"/>: what a run added to the store.</summary>
public sealed record UsageCharge(string Subject, string Period, int Runs, long CpuMs, long StoredBytes = 0);

/// <summary>An agent put under approval by an alert.</summary>
public sealed record AgentHold(string AgentId, string Reason);
