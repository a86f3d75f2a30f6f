using System.Text.Json.Nodes;
using Sandbox.Core.Execution;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;
using Sandbox.Server.Hosting;

namespace Sandbox.Server.Runs;

/// <summary>
/// Runs waiting for a human: decisions made elsewhere followed (approved, denied, expired; agents revoked, keys rotated), and
/// an approved run released into the queue once its agent has a slot, in one transaction with its receipt.
/// </summary>
internal sealed partial class RunLifecycle
{
    /// <summary>
    /// Follows decisions made elsewhere (the CLI, the admin API, another node): approvals decided or expired,
    /// agents revoked and keys rotated. The service calls it every <c>Sandbox:Guard:WatchInterval</c>; the admin API
    /// calls it at once after acting, so its caller sees the effect when it gets the answer.
    /// </summary>
    public async Task WatchAsync(CancellationToken cancellationToken)
    {
        // A flood of bad keys ends without another failure to flush its count: the watcher writes it once the minute is over.
        await _guard.Keys.FlushAuthFailuresAsync(cancellationToken);
        await _guard.Refusals.FlushAsync(cancellationToken); // likewise a flood of refused requests
        await SweepStoreAsync(cancellationToken);
        var open = _runs.Values.Where(e => e.State != RunState.Completed).ToList();
        foreach (var agentId in open.Select(e => e.Principal.Agent.Id).Distinct())
        {
            if (await _store.FindAgentAsync(agentId, cancellationToken) is { RevokedAt: not null } revoked)
            {
                Log.AgentRevoked(_logger, revoked.Name);
                await CancelAgentAsync(agentId, $"agent '{revoked.Name}' was revoked ({revoked.RevokedReason})", TimeSpan.Zero);
            }
            else
            {
                // A key rotated elsewhere (the CLI): what the old key and its tokens started stops too.
                await CancelRevokedCredentialsAsync(agentId, TimeSpan.Zero, cancellationToken);
            }
        }

        // Oldest first, so approved runs waiting for a slot start in the order they were submitted.
        foreach (var entry in open.Where(e => e.State == RunState.PendingApproval && e.Approval is not null).OrderBy(e => e.CreatedTimestamp))
        {
            var approval = entry.Approval!.State == ApprovalState.Approved
                ? entry.Approval
                : await _store.FindApprovalAsync(entry.Approval!.Id, cancellationToken);
            if (approval is { State: ApprovalState.Pending } && _time.GetUtcNow() >= approval.ExpiresAt)
            {
                approval = await _guard.ExpireAsync(approval, cancellationToken) ?? await _store.FindApprovalAsync(approval.Id, cancellationToken);
            }

            switch (approval?.State)
            {
                case ApprovalState.Approved:
                    await ReleaseApprovedAsync(entry, approval, cancellationToken);
                    break;
                case ApprovalState.Denied or ApprovalState.Expired:
                    entry.Approval = approval;
                    var why = approval.State == ApprovalState.Denied
                        ? $"denied by {approval.DecidedBy} at {approval.DecidedAt:u}{(approval.Note is { Length: > 0 } note ? ": " + note : "")}"
                        : $"the approval expired at {approval.DecidedAt ?? approval.ExpiresAt:u} without a decision";
                    await FinishAsync(entry, Rejected(entry, "approval", why), runMs: null);
                    break;
            }
        }
    }

    /// <summary>Approved, but waiting for one of its agent's slots: queued, as far as callers and caps are concerned.</summary>
    private static bool IsApprovedWaiting(RunEntry entry) => entry.State == RunState.PendingApproval && entry.Approval?.State == ApprovalState.Approved;

    /// <summary>
    /// An approved run takes one of its agent's slots, gets its receipt and joins the queue. With no slot free
    /// (the agent's concurrency cap) or no room in the service's queue, it stays where it is, shown as queued,
    /// and the next watch tick asks again: approving runs never lifts the caps, and never throws an approved run away.
    /// </summary>
    private async Task ReleaseApprovedAsync(RunEntry entry, Approval approval, CancellationToken cancellationToken)
    {
        var firstSeen = entry.Approval?.State != ApprovalState.Approved;
        entry.Approval = approval;
        if (firstSeen)
        {
            Log.Approved(_logger, entry.Id, approval.Id, approval.DecidedBy ?? "?");

            // Checked once, on the record as approved: a change to what would run after the approval is refused.
            if (_policy.CheckApproved(entry.Principal, approval, entry.Plan) is { } mismatch)
            {
                await FinishAsync(entry, Rejected(entry, "approval_mismatch", mismatch.Reason), runMs: null, records: [mismatch.Record]);
                return;
            }
        }

        if (_scheduler.QueueDepth >= _options.MaxQueueLength)
        {
            return;
        }

        using (await _ledger.LockAsync(entry.Principal.Agent.Id, cancellationToken))
        {
            var (usage, tokenUsage) = await UsageAsync(entry.Principal, _time.GetUtcNow(), cancellationToken);
            if (entry.State != RunState.PendingApproval || !_ledger.CanRelease(entry.Principal, usage, tokenUsage))
            {
                // No slot free (or what is left of the budget is held by runs in flight): it waits, shown as queued, and asks again.
                return;
            }

            // Its CPU limit is tightened to what remains now, as an allowed run's is: an approval lets a run start, it does
            // not lift the agent's or the token's budget.
            var plan = _ledger.TightenToBudget(entry.Principal, entry.Plan, usage, tokenUsage);
            _ledger.Hold(entry.Principal, plan);
            entry.Hold(plan);
            var released = new RunTransition
            {
                Move = new RunStateChange(entry.Id, RunStateNames.Of(RunState.Queued)),
                Audit = [AuditRecords.Receipt(entry.Principal, plan, new JsonObject { ["approvalId"] = approval.Id, ["approvedBy"] = approval.DecidedBy })],
            };
            if (!await TryCommitAsync(entry.Id, released, cancellationToken) || !entry.TryRelease(plan))
            {
                // Not recorded (it stays approved and waiting, and the next tick asks again), or it ended meanwhile.
                GiveBack(entry);
                return;
            }
        }

        if (!_scheduler.TryEnqueue(entry))
        {
            // Only when shutting down (or the queue filled between the check above and now): it was released, so it ends here.
            var why = _accepting ? "the run was approved, but the service's queue filled up as it was released; submit it again" : "the service shut down before the approved run started";
            await FinishAsync(entry, _accepting ? Rejected(entry, "queue_full", why) : Cancelled(entry, why), runMs: null);
        }
    }

    /// <summary>
    /// Ends a run that waits for approval without a decision: its approval is closed first, so it leaves the
    /// operators' pending list (nobody approves a run that is gone), then the run completes as rejected.
    /// </summary>
    private async Task RejectPendingAsync(RunEntry entry, string code, string reason)
    {
        ApprovalClosing? withdraw = null;
        if (entry.Approval is { State: ApprovalState.Pending } approval)
        {
            // Closed in the transaction of the run's end, so neither is recorded without the other; the view shows it closed.
            var note = "withdrawn: " + reason;
            var at = _time.GetUtcNow();
            withdraw = new ApprovalClosing(approval.Id, note, at, AuditRecords.ApprovalClosed(approval, note));
            entry.Approval = approval with { State = ApprovalState.Expired, DecidedBy = "system", DecidedAt = at, Note = note };
        }

        await FinishAsync(entry, Rejected(entry, code, reason), runMs: null, withdraw: withdraw);
    }
}
