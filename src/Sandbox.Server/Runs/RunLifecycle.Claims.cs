using Microsoft.Extensions.Logging;
using Sandbox.Core.Execution;
using Sandbox.Core.Runs;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;

namespace Sandbox.Server.Runs;

/// <summary>
/// Work claimed, not pushed (issue 15, point 2), on a store nodes share (<see cref="IRunClaims"/>). A node admits every run
/// it is asked for; one it can start at once it keeps (its admission stamps it as the owner: an admission and a claim in one
/// transaction), one it cannot (its slots are full) it offers: written <c>queued</c> with no owner and with what it needs,
/// announced to every node. Any node with a free slot claims offered runs it serves and runs them as its own, from the
/// inputs and receipted plan stored at admission (as a takeover does). The admitting node answers a synchronous caller from
/// the run's row once its claimer stored the end. On SQLite (one node) nothing here is used: every run is kept.
/// </summary>
internal sealed partial class RunLifecycle
{
    /// <summary>How often a caller waiting for an offered run looks at its row.</summary>
    private static readonly TimeSpan OfferedPoll = TimeSpan.FromMilliseconds(100);

    /// <summary>Beyond the run's own time limits: the wait for a claim and for the claimer's end write, before a 202 instead.</summary>
    private static readonly TimeSpan OfferedAnswerGrace = TimeSpan.FromSeconds(30);

    /// <summary>Raised when a run this node executed has left its slot (the scheduler's counts already dropped): a slot is free to claim with.</summary>
    internal event Action? SlotFreed;

    /// <summary>Runs this node could start now without queueing one behind another: what it may claim. Zero while draining.</summary>
    internal int FreeSlots => _accepting ? Math.Max(0, _options.MaxConcurrentRuns - _scheduler.Running - _scheduler.QueueDepth) : 0;

    /// <summary>
    /// Whether a run being admitted is offered to every node instead of kept: only on a store with claims and a live lease,
    /// never a session's cell (its sandbox is here), and only when this node has no free slot for it now.
    /// </summary>
    private bool Offers(IExecutionSession? session) =>
        session is null && _store is IRunClaims && _store is INodeLeases { Lease: not null } && FreeSlots == 0;

    /// <summary>What an offered run needs of its claimer: its backend, and its image or module (by name; the digest is checked on claim).</summary>
    private static string NeedsOf(RunPlan plan) => RunNeeds.Of(plan.Backend, plan.Profile.Module ?? plan.Profile.Image);

    /// <summary>Claims as many offered runs as this node has free slots for and queues them here; how many it claimed.</summary>
    public async Task<int> ClaimAsync(IRunClaims claims, CancellationToken cancellationToken)
    {
        var free = FreeSlots;
        if (free == 0)
        {
            return 0;
        }

        var claimed = await claims.ClaimAsync(free, cancellationToken);
        foreach (var claim in claimed)
        {
            await QueueStoredAsync(claim.Run, "claimed from the shared queue", null, claim.CancelRequested, cancellationToken);
        }

        return claimed.Count;
    }

    /// <summary>
    /// A synchronous caller's wait for a run this node offered: its row, looked at every <see cref="OfferedPoll"/>, until its
    /// claimer stored the end (its stored view), or its time limits plus <see cref="OfferedAnswerGrace"/> passed (its view as
    /// it stands, for a 202 and a later GET). Null when the caller left; the run is then cancelled when <paramref name="cancelReason"/> is given.
    /// </summary>
    public async Task<RunView?> AwaitOfferedAsync(OfferedRun offered, Principal principal, string? cancelReason, CancellationToken cancellationToken)
    {
        var waited = _time.GetTimestamp();
        var last = offered.View;
        try
        {
            while (_time.GetElapsedTime(waited) < offered.AnswerWithin)
            {
                await Task.Delay(OfferedPoll, _time, cancellationToken);
                try
                {
                    if (await _store.FindRunAsync(offered.View.Id, cancellationToken) is not { } row)
                    {
                        return last;
                    }

                    last = StoredView(row, principal);
                    if (row.State == RunStateNames.Of(RunState.Completed))
                    {
                        return last;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The store is busy or away: looked at again next poll; the run's end is in its row whenever it comes.
                    Log.RunRecordFailed(_logger, offered.View.Id, ex);
                }
            }

            return last;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (cancelReason is not null)
            {
                // Asked of its owner through the store (or of its claimer, with the claim), as a DELETE on this node would.
                await CancelAsync(offered.View.Id, principal, cancelReason, TimeSpan.Zero);
            }

            return null;
        }
    }

    /// <summary>
    /// A DELETE of an offer no node claimed yet (its cancel request already stored): this node claims it and ends it
    /// <c>cancelled</c> at once, rather than leave it holding its agent's slot until some node has a free one. Null when it
    /// is no unclaimed offer, or another node claimed it first (that claim carries the request).
    /// </summary>
    private async Task<CancelOutcome?> CancelOfferedAsync(StoredRun stored, string reason)
    {
        if (stored.OwnerNode is not null || stored.Needs is null || _store is not IRunClaims claims
            || await claims.ClaimOfferedAsync(stored.RunId, CancellationToken.None) is not { } claimed)
        {
            return null;
        }

        await QueueStoredAsync(claimed.Run, "claimed to be cancelled", null, claimed.CancelRequested ?? reason, CancellationToken.None);
        return (await _store.FindRunAsync(stored.RunId, CancellationToken.None))?.State is null or "completed" ? CancelOutcome.Cancelled : CancelOutcome.Cancelling;
    }

    private OfferedRun Offer(RunEntry entry)
    {
        var limits = entry.Plan.Limits.WallTimeMs + (entry.Plan.Profile.Compile?.Limits.WallTimeMs ?? 0);
        Log.Offered(_logger, entry.Id, entry.Plan.Profile.Name, entry.Plan.Backend, entry.Principal.Agent.Name);
        return new OfferedRun(View(entry), TimeSpan.FromMilliseconds(limits) + OfferedAnswerGrace);
    }

    private static partial class Log
    {
        [LoggerMessage(20, LogLevel.Information, "Run {RunId} accepted and offered to every node (no free slot here): profile {Profile}, backend {Backend}, agent {Agent}")]
        public static partial void Offered(ILogger logger, string runId, string profile, string backend, string agent);

        [LoggerMessage(21, LogLevel.Information, "Run {RunId} claimed from the shared queue: queued here with its stored inputs")]
        public static partial void Claimed(ILogger logger, string runId);

        [LoggerMessage(22, LogLevel.Warning, "Run {RunId} was claimed here but cannot run here ({Why}); closed as interrupted")]
        public static partial void ClaimRefused(ILogger logger, string runId, string why);
    }
}

/// <summary>A run admitted here and offered to every node: its view at admission, and how long a synchronous caller waits for its end.</summary>
internal sealed record OfferedRun(RunView View, TimeSpan AnswerWithin);
