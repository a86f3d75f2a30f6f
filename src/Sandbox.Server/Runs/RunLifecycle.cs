using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;
using Sandbox.Server.Hosting;
using Sandbox.Server.Metrics;
using Sandbox.Server.Output;
using Sandbox.Server.Scheduling;

namespace Sandbox.Server.Runs;

/// <summary>
/// The one owner of a run's life: <c>pending_approval</c>, <c>queued</c>, <c>running</c>, <c>completed</c>, and every
/// transition between them. Each transition reads the facts the guard's policy needs (usage from the store, the agent's
/// waiting runs from memory), asks the policy, holds or gives back the run's slot in the guard's <see cref="CapLedger"/>
/// (the one place slots are kept), and commits the run's row, its usage, its approval, its idempotency key and its audit
/// records in ONE store transaction. When that write fails nothing is held and the caller gets 503 <c>store_unavailable</c>.
/// It also keeps results for a while, honours idempotency keys (per agent), cancels on request or on revocation and, on
/// shutdown, lets running jobs finish within a grace period before killing and recording the rest. HTTP and the local
/// MCP server both go through here.
/// </summary>
internal sealed partial class RunLifecycle : IAsyncDisposable
{
    private readonly RunPipeline _pipeline;
    private readonly RunGuard _guard;
    private readonly IGuardStore _store;
    private readonly CapLedger _ledger;
    private readonly RunPolicy _policy;
    private readonly ServerOptions _options;
    private readonly SandboxMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RunScheduler<RunEntry> _scheduler;
    private readonly ConcurrentDictionary<string, RunEntry> _runs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RunEntry> _completedInOrder = new();

    // Output bytes retained per agent across its completed runs (MaxRetainedOutputBytesPerAgent); guarded by _retentionGate.
    private readonly Dictionary<string, long> _retainedOutput = new(StringComparer.Ordinal);
    private readonly Lock _retentionGate = new();
    private readonly Lock _idempotencyGate = new();
    private readonly Dictionary<string, (string Fingerprint, string RunId)> _idempotency = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _idempotencyAdmission = new(1, 1);
    private volatile bool _accepting = true;
    private double _averageRunSeconds = 1;

    public RunLifecycle(RunPipeline pipeline, RunGuard guard, IGuardStore store, ServerOptions options, SandboxMetrics metrics, TimeProvider time, ILogger<RunLifecycle> logger)
    {
        _pipeline = pipeline;
        _guard = guard;
        _store = store;
        _ledger = guard.Ledger;
        _policy = guard.Policy;
        _options = options;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _scheduler = new RunScheduler<RunEntry>(options.MaxConcurrentRuns, options.MaxQueueLength, ExecuteAsync);
        metrics.ObserveScheduler(() => _scheduler.QueueDepth, () => _scheduler.Running, options.MaxConcurrentRuns, options.MaxQueueLength);
    }

    public RunPipeline Pipeline => _pipeline;

    public RunGuard Guard => _guard;

    public int QueueDepth => _scheduler.QueueDepth;

    public int Running => _scheduler.Running;

    public bool Accepting => _accepting;

    /// <summary>
    /// Validates, plans, asks the guard and admits a run. With an idempotency key this agent already used
    /// for the same request, the existing run comes back instead of a new one; for a different request
    /// under the same key, a 422 problem. A run that needs approval comes back pending; it is not queued.
    /// </summary>
    public async Task<SubmitOutcome> SubmitAsync(Principal principal, RunRequest request, bool rawOutput, string? idempotencyKey = null, string? fingerprint = null, CancellationToken cancellationToken = default)
    {
        Sweep();
        if (idempotencyKey is null)
        {
            return await AdmitAsync(principal, request, rawOutput, null, null, cancellationToken);
        }

        // Keys belong to an agent: two agents may pick the same key without seeing each other's runs.
        // A task token's keys are its own: a replay must not hand it a run it may not see (see Find).
        var scopedKey = principal.Agent.Id + (principal.IsTaskToken ? "/" + principal.Credential.Id : "") + "\n" + idempotencyKey;

        // One admission at a time under keys: two concurrent retries with the same key must not both run.
        await _idempotencyAdmission.WaitAsync(cancellationToken);
        try
        {
            lock (_idempotencyGate)
            {
                if (_idempotency.TryGetValue(scopedKey, out var seen) && _runs.TryGetValue(seen.RunId, out var existing))
                {
                    return seen.Fingerprint == fingerprint
                        ? SubmitOutcome.Replayed(existing)
                        : SubmitOutcome.Refused(KeyReused(idempotencyKey, seen.RunId));
                }
            }

            // Not in memory: the store keeps keys across restarts, so a retry after a crash gets the original run, never a second one.
            SubmitOutcome? stored;
            try
            {
                stored = await ReplayStoredAsync(principal, scopedKey, idempotencyKey, fingerprint, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Without the store we cannot know the key is new, and running it again is the one thing a key forbids.
                Log.KeyLookupFailed(_logger, ex);
                return SubmitOutcome.Refused(StoreUnavailable());
            }

            if (stored is not null)
            {
                return stored;
            }

            var outcome = await AdmitAsync(principal, request, rawOutput, scopedKey, fingerprint, cancellationToken);
            if (outcome.Entry is { } entry)
            {
                lock (_idempotencyGate)
                {
                    _idempotency[scopedKey] = (fingerprint ?? "", entry.Id);
                }

                entry.IdempotencyKey = scopedKey;
            }

            return outcome;
        }
        finally
        {
            _idempotencyAdmission.Release();
        }
    }

    /// <summary>The plan a request would get, without admitting it.</summary>
    public (RunPlan? Plan, IReadOnlyList<FieldError> Errors) Plan(RunRequest request) => _pipeline.PlanForRun(request, _pipeline.NewRunId());

    /// <summary>
    /// A run of this agent; another agent's run is as unknown as one that never existed. A task token sees only the
    /// runs it started: it is narrower than its agent's key, so its agent's other runs (their code, output and
    /// cancellation) are not its business.
    /// </summary>
    public RunEntry? Find(string id, Principal principal)
    {
        Sweep();
        return _runs.GetValueOrDefault(id) is { } entry && entry.Principal.Agent.Id == principal.Agent.Id
            && (!principal.IsTaskToken || entry.Principal.Credential.Id == principal.Credential.Id)
            ? entry
            : null;
    }

    /// <summary>Cancels a queued or running run; it completes as <c>cancelled</c> once its container or engine is gone.</summary>
    public async Task<CancelOutcome> CancelAsync(string id, Principal principal, string reason, TimeSpan wait)
    {
        if (Find(id, principal) is not { } entry)
        {
            return CancelOutcome.NotFound;
        }

        if (entry.State == RunState.Completed)
        {
            return CancelOutcome.AlreadyCompleted;
        }

        await CancelEntryAsync(entry, reason);

        // The backend removes the container before it reports; waiting here means "gone" when we answer.
        try
        {
            await entry.Completed.WaitAsync(wait, _time).ConfigureAwait(false);
            return CancelOutcome.Cancelled;
        }
        catch (TimeoutException)
        {
            return CancelOutcome.Cancelling;
        }
    }

    /// <summary>
    /// Kills every run of a revoked agent: pending ones are rejected, queued ones never start, running ones
    /// are killed. Returns how many runs it stopped once each has its final record (or the wait ran out).
    /// </summary>
    public async Task<int> CancelAgentAsync(string agentId, string reason, TimeSpan wait)
    {
        var entries = _runs.Values.Where(e => e.Principal.Agent.Id == agentId && e.State != RunState.Completed).ToList();
        foreach (var entry in entries)
        {
            await CancelEntryAsync(entry, reason);
        }

        try
        {
            await Task.WhenAll(entries.Select(e => e.Completed)).WaitAsync(wait, _time);
        }
        catch (TimeoutException)
        {
            // Reported by the caller from the entries' states; the kills go on.
        }

        return entries.Count;
    }

    /// <summary>
    /// Kills the agent's runs started with a key that has been rotated or revoked since, or with a task token such a key
    /// minted: a rotation means the key may have leaked, so what it started must not go on (runs of the new key are left
    /// alone). Returns how many runs it stopped once each has its final record (or the wait ran out).
    /// </summary>
    public async Task<int> CancelRevokedCredentialsAsync(string agentId, TimeSpan wait, CancellationToken cancellationToken)
    {
        var stopped = new List<RunEntry>();
        var open = _runs.Values.Where(e => e.Principal.Agent.Id == agentId && e.State != RunState.Completed);
        foreach (var runs in open.GroupBy(e => e.Principal.Credential.Id, StringComparer.Ordinal).ToList())
        {
            if (await _guard.Keys.RevokedCredentialAsync(runs.First().Principal.Credential, cancellationToken) is not { } why)
            {
                continue;
            }

            foreach (var entry in runs)
            {
                await CancelEntryAsync(entry, why);
                stopped.Add(entry);
            }
        }

        try
        {
            await Task.WhenAll(stopped.Select(e => e.Completed)).WaitAsync(wait, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Reported by the caller from the entries' states; the kills go on.
        }

        return stopped.Count;
    }

    /// <summary>
    /// Follows decisions made elsewhere (the CLI, the admin API, another node): approvals decided or expired,
    /// agents revoked and keys rotated. The service calls it every <c>Sandbox:Guard:WatchInterval</c>; the admin API
    /// calls it at once after acting, so its caller sees the effect when it gets the answer.
    /// </summary>
    public async Task WatchAsync(CancellationToken cancellationToken)
    {
        // A flood of bad keys ends without another failure to flush its count: the watcher writes it once the minute is over.
        await _guard.Keys.FlushAuthFailuresAsync(cancellationToken);
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

    /// <summary>The view callers get: state, timings, and the result with output made safe.</summary>
    public static RunView View(RunEntry entry)
    {
        var result = entry.Result;
        return new RunView
        {
            Id = entry.Id,
            // Approved but waiting for one of its agent's slots: from the caller's side it is queued.
            State = RunStateNames.Of(IsApprovedWaiting(entry) ? RunState.Queued : entry.State),
            CreatedAt = entry.CreatedAt,
            StartedAt = entry.StartedAt,
            CompletedAt = entry.CompletedAt,
            QueueMs = entry.QueueMs,
            RunMs = entry.RunMs,
            Result = result,
            Raw = result is not null && entry.RawOutput
                ? new RawOutput(Convert.ToBase64String(result.StdoutBytes.Span), Convert.ToBase64String(result.StderrBytes.Span))
                : null,
            Agent = entry.Principal.Agent.Name,
            OutputDropped = entry.OutputDropped ? true : null,
            Approval = entry.Approval is { } a
                ? new ApprovalView { Id = a.Id, State = ApprovalStates.Name(a.State), Reason = a.Reason, ExpiresAt = a.ExpiresAt, DecidedBy = a.DecidedBy, DecidedAt = a.DecidedAt, Note = a.Note }
                : null,
            Budgets = entry.Budgets,
        };
    }

    /// <summary>Seconds a refused caller should wait: roughly how long the queue ahead takes to drain.</summary>
    public int RetryAfterSeconds()
    {
        var perSlot = (_scheduler.QueueDepth + 1.0) / _options.MaxConcurrentRuns;
        return (int)Math.Clamp(Math.Ceiling(perSlot * Volatile.Read(ref _averageRunSeconds)), 1, 60);
    }

    /// <summary>
    /// Stops admitting; queued runs are cancelled at once, running ones get the grace period and are then
    /// killed. Every run ends with a final state.
    /// </summary>
    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        _accepting = false;
        foreach (var queued in _scheduler.Close())
        {
            const string Reason = "the service shut down before the run started";
            RequestCancel(queued, Reason);
            await FinishAsync(queued, Cancelled(queued, Reason), runMs: null);
        }

        foreach (var pending in _runs.Values.Where(e => e.State == RunState.PendingApproval))
        {
            if (IsApprovedWaiting(pending))
            {
                const string Reason = "the service shut down before the approved run got a slot";
                RequestCancel(pending, Reason);
                await FinishAsync(pending, Cancelled(pending, Reason), runMs: null);
                continue;
            }

            await RejectPendingAsync(pending, "shutdown", "the service shut down while the run waited for approval; submit it again");
        }

        var running = _runs.Values.Where(e => e.State != RunState.Completed).ToList();
        if (running.Count > 0)
        {
            Log.Draining(_logger, running.Count, (long)_options.ShutdownGracePeriod.TotalSeconds);
            try
            {
                await Task.WhenAll(running.Select(e => e.Completed)).WaitAsync(_options.ShutdownGracePeriod, _time, cancellationToken);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
                // Out of grace (ours, or the host's stop token): kill the rest, below.
            }

            foreach (var entry in running.Where(e => e.State != RunState.Completed))
            {
                RequestCancel(entry, $"the service shut down; the run was killed after the {_options.ShutdownGracePeriod.TotalSeconds:0.#} s grace period");
            }
        }

        // Kills are confirmed (the container removed) before we return, whatever the host's token says;
        // bounded, so a wedged daemon cannot hang shutdown, and every run still ends with a final state.
        try
        {
            await _scheduler.Completion.WaitAsync(TimeSpan.FromSeconds(30), _time, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            foreach (var entry in _runs.Values.Where(e => e.State != RunState.Completed))
            {
                await FinishAsync(entry, Cancelled(entry, "the service shut down and the backend did not confirm the kill in time"), runMs: null);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_accepting)
        {
            await ShutdownAsync(CancellationToken.None);
        }
    }

    private async Task<SubmitOutcome> AdmitAsync(Principal principal, RunRequest request, bool rawOutput, string? scopedKey, string? fingerprint, CancellationToken cancellationToken)
    {
        var runId = _pipeline.NewRunId();
        if (!_accepting)
        {
            _metrics.RecordRefusal("shutting_down");
            return await RefuseAsync(principal, request, runId, ShuttingDown(), cancellationToken);
        }

        var guardErrors = _policy.CheckRequest(request);
        var (plan, errors) = guardErrors.Count == 0 ? _pipeline.PlanForRun(request, runId) : (null, guardErrors);
        if (plan is null)
        {
            // Limits above the profile are not a typo to fix but a permission the caller lacks: refused like an unlisted profile.
            var forbidden = errors.All(e => e.Message.Contains(LimitTightener.AboveCeiling, StringComparison.Ordinal));
            _metrics.RecordRefusal(forbidden ? "rejected" : "invalid_request");
            return await RefuseAsync(principal, request, runId, forbidden ? Forbidden(errors, "limits above the profile's") : ApiProblem.Invalid(errors), cancellationToken);
        }

        if (_scheduler.QueueDepth >= _options.MaxQueueLength && _scheduler.Running >= _options.MaxConcurrentRuns)
        {
            return await RefuseAsync(principal, request, runId, QueueFull(), cancellationToken);
        }

        plan = await _pipeline.PinAsync(plan, cancellationToken); // the image or module digest its receipt records and it runs

        RunEntry entry;
        using (await _ledger.LockAsync(principal.Agent.Id, cancellationToken))
        {
            // Under the agent's lock from the facts to the commit: no other run of this agent decides on stale counts meanwhile.
            var now = _time.GetUtcNow();
            var (usage, tokenUsage) = await UsageAsync(principal, now, cancellationToken);

            // Approved runs waiting for this agent's slot go first: a new run must not take the slot they wait for.
            var approvedWaiting = _runs.Values.Count(e => e.Principal.Agent.Id == principal.Agent.Id && IsApprovedWaiting(e));
            var decision = _policy.Decide(new AdmissionFacts(principal, plan, usage, tokenUsage, approvedWaiting, now));
            var admission = decision.Admission;
            switch (admission.Kind)
            {
                case AdmissionKind.Rejected:
                    _metrics.RecordRefusal("rejected");
                    return await CommitRefusalAsync(decision.Writes, Forbidden(admission.Errors ?? [], admission.Reason!), cancellationToken);
                case AdmissionKind.Throttled:
                    _metrics.RecordRefusal(admission.Cap!);
                    return await CommitRefusalAsync(decision.Writes, ApiProblem.CapExceeded(admission.Cap!, admission.Reason!, admission.RetryAfterSeconds), cancellationToken);
                case AdmissionKind.Pending:
                {
                    // Admitted, waiting for a human: the row, the approval and the records in one transaction, so an approval
                    // never waits for a run a restart would not know, and a failed write leaves nothing for an operator to decide.
                    var pending = NewEntry(principal, plan, rawOutput, admission.Approval);
                    if (!await TryCommitAsync(pending.Id, decision.Writes with { Admit = NewStoredRun(pending, scopedKey, fingerprint) }, cancellationToken))
                    {
                        pending.Cancellation.Dispose();
                        return SubmitOutcome.Refused(StoreUnavailable());
                    }

                    _ledger.CountAdmission(principal, now);
                    _policy.Publish(decision.Alerts);
                    _runs[pending.Id] = pending;
                    return SubmitOutcome.Accepted(pending);
                }
            }

            // Allowed: the slot is held before the write and given back if the write fails, under the lock either way.
            entry = NewEntry(principal, admission.Plan!, rawOutput, approval: null);
            _ledger.Hold(principal, entry.Plan);
            entry.Hold(entry.Plan);
            var admit = decision.Writes with
            {
                Admit = NewStoredRun(entry, scopedKey, fingerprint),
                Audit = [.. decision.Writes.Audit, AuditRecords.Receipt(principal, entry.Plan, extra: null)],
            };
            if (!await TryCommitAsync(entry.Id, admit, cancellationToken))
            {
                // Nothing was written and nothing runs: give back the slot and the CPU reservation (a leak here locked the
                // agent out with 429 until a restart), and tell the caller it is our store, not its request.
                GiveBack(entry);
                entry.Cancellation.Dispose();
                return SubmitOutcome.Refused(StoreUnavailable());
            }

            _ledger.CountAdmission(principal, now);
            _policy.Publish(decision.Alerts);
            _runs[entry.Id] = entry;
        }

        if (!_scheduler.TryEnqueue(entry))
        {
            // Filled up between the check above and now: the run was allowed but never started, and says so.
            var refused = _accepting ? QueueFull() : ShuttingDown();
            _metrics.RecordRefusal(refused.Code);
            await FinishAsync(entry, Rejected(entry, refused.Code, refused.Detail), runMs: null);
            _runs.TryRemove(entry.Id, out _);
            return SubmitOutcome.Refused(refused);
        }

        using (BeginRunScope(entry.Id))
        {
            Log.Accepted(_logger, entry.Id, entry.Plan.Profile.Name, entry.Plan.Backend, principal.Agent.Name);
        }

        return SubmitOutcome.Accepted(entry);
    }

    /// <summary>
    /// Counts a refused request (invalid, over the profile, off the allow-list) against the agent's rate, or, when the agent
    /// is already at its rate, returns the 429 to answer instead: refusals cost parsing, audit records and log lines, so an
    /// agent sending bad requests in a loop is capped like one sending good ones.
    /// </summary>
    public ApiProblem? CountRefusal(Principal principal)
    {
        if (_ledger.CountRefusal(principal, _time.GetUtcNow()) is not { } throttled)
        {
            return null;
        }

        Log.RefusalThrottled(_logger, principal.Agent.Name);
        return ApiProblem.CapExceeded(throttled.Cap!, throttled.Reason!, throttled.RetryAfterSeconds);
    }

    /// <summary>What remains of each of the principal's budgets now.</summary>
    public async Task<IReadOnlyList<Budget>> BudgetsAsync(Principal principal, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var (usage, tokenUsage) = await UsageAsync(principal, now, cancellationToken);
        return _ledger.Budgets(principal, usage, tokenUsage, now);
    }

    /// <summary>A request refused before the guard's decision: its request and rejection records, then the problem (503 if they cannot be written).</summary>
    private Task<SubmitOutcome> RefuseAsync(Principal principal, RunRequest request, string runId, ApiProblem problem, CancellationToken cancellationToken) =>
        CommitRefusalAsync(_policy.Refusal(principal, request, runId, problem.Code, problem.Detail), problem, cancellationToken);

    private async Task<SubmitOutcome> CommitRefusalAsync(RunTransition records, ApiProblem problem, CancellationToken cancellationToken) =>
        SubmitOutcome.Refused(await TryCommitAsync(runId: null, records, cancellationToken) ? problem : StoreUnavailable());

    /// <summary>One transition's transaction; false (logged, nothing written) when the store fails. Cancellation is thrown.</summary>
    private async Task<bool> TryCommitAsync(string? runId, RunTransition transition, CancellationToken cancellationToken)
    {
        try
        {
            await _store.CommitAsync(transition, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _metrics.RecordRefusal("store_unavailable");
            Log.RunRecordFailed(_logger, runId ?? "(refused)", ex);
            return false;
        }
    }

    /// <summary>The agent's usage today and, for a task token, the token's over its life: the facts the caps are checked on.</summary>
    private async Task<(Usage Usage, Usage TokenUsage)> UsageAsync(Principal principal, DateTimeOffset now, CancellationToken cancellationToken) =>
        (await _store.GetUsageAsync(principal.Agent.Id, CapLedger.Day(now), cancellationToken),
         principal.IsTaskToken ? await _store.GetUsageAsync(principal.Credential.Id, CapLedger.LifePeriod, cancellationToken) : Usage.Zero);

    /// <summary>Gives back the run's slot and CPU reservation, if it still holds them; exactly once, whoever calls first.</summary>
    private void GiveBack(RunEntry entry)
    {
        if (entry.TakeHeld() is { } held)
        {
            _ledger.Give(entry.Principal, held);
        }
    }

    /// <summary>Approved, but waiting for one of its agent's slots: queued, as far as callers and caps are concerned.</summary>
    private static bool IsApprovedWaiting(RunEntry entry) => entry.State == RunState.PendingApproval && entry.Approval?.State == ApprovalState.Approved;

    private RunEntry NewEntry(Principal principal, RunPlan plan, bool rawOutput, Approval? approval) =>
        new(principal, plan, _time.GetUtcNow(), _time.GetTimestamp(), rawOutput, (int)Math.Min(int.MaxValue, plan.Limits.StdoutBytes + plan.Limits.StderrBytes), approval);

    private ApiProblem QueueFull()
    {
        var retry = RetryAfterSeconds();
        _metrics.RecordRefusal("queue_full");
        Log.QueueFull(_logger, _scheduler.Running, _scheduler.QueueDepth);
        return new ApiProblem
        {
            Status = 429,
            Code = "queue_full",
            Title = "Too many runs at once",
            Detail = $"{_options.MaxConcurrentRuns} runs are executing and {_options.MaxQueueLength} are waiting, which is the most this service takes; retry after {retry} s",
            RetryAfterSeconds = retry,
        };
    }

    private static ApiProblem Forbidden(IReadOnlyList<FieldError> errors, string reason) => new()
    {
        Status = 403,
        Code = "rejected",
        Title = "Not allowed for this key",
        Detail = errors.Count > 0 ? "rejected: " + string.Join("; ", errors.Select(e => e.ToString())) : reason,
        Errors = errors,
    };

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

    private async Task CancelEntryAsync(RunEntry entry, string reason)
    {
        if (entry.State == RunState.PendingApproval)
        {
            if (IsApprovedWaiting(entry))
            {
                // Approved and waiting for a slot: as good as queued, so it is cancelled like a queued run.
                RequestCancel(entry, reason);
                await FinishAsync(entry, Cancelled(entry, reason), runMs: null);
                return;
            }

            await RejectPendingAsync(entry, "cancelled", reason);
            return;
        }

        RequestCancel(entry, reason);
        if (entry.State == RunState.Queued)
        {
            // Nothing is running to kill: it gets its final state now, and the worker will skip it.
            await FinishAsync(entry, Cancelled(entry, reason), runMs: null);
        }
    }

    /// <summary>
    /// Ends a run that waits for approval without a decision: its approval is closed first, so it leaves the
    /// operators' pending list (nobody approves a run that is gone), then the run completes as rejected.
    /// </summary>
    private async Task RejectPendingAsync(RunEntry entry, string code, string reason)
    {
        if (entry.Approval is { State: ApprovalState.Pending } approval)
        {
            try
            {
                entry.Approval = await _guard.WithdrawAsync(approval, reason, CancellationToken.None)
                    ?? await _store.FindApprovalAsync(approval.Id, CancellationToken.None)
                    ?? approval;
            }
            catch (Exception ex)
            {
                // The store failed under us: the run must still end; start-up reconciliation closes the approval of a run that has a result.
                Log.WithdrawFailed(_logger, entry.Id, approval.Id, ex);
            }
        }

        await FinishAsync(entry, Rejected(entry, code, reason), runMs: null);
    }

    private async Task ExecuteAsync(RunEntry entry)
    {
        using var scope = BeginRunScope(entry.Id);
        var started = _time.GetTimestamp();
        if (!entry.TryStart(_time.GetUtcNow(), (long)_time.GetElapsedTime(entry.CreatedTimestamp, started).TotalMilliseconds))
        {
            return;
        }

        // queued -> running, recorded before the code starts: after a crash, a run that may have run is told from one that never did.
        if (!await TryCommitAsync(entry.Id, new RunTransition { Move = new RunStateChange(entry.Id, RunStateNames.Of(RunState.Running)) }, CancellationToken.None))
        {
            await FinishAsync(entry, NotRecorded(entry, "the run could not be recorded as started, so it did not start"), runMs: 0);
            return;
        }

        RunResult result;
        try
        {
            result = await _pipeline.ExecuteAsync(entry.Plan, entry.Cancellation.Token);
        }
        catch (OperationCanceledException) when (entry.Cancellation.IsCancellationRequested)
        {
            result = Cancelled(entry, entry.CancelReason ?? "cancelled");
        }
        catch (Exception ex)
        {
            // A bug must not leave a run without a final state, nor kill this worker; the caller sees no internals.
            Log.Crashed(_logger, entry.Id, ex);
            result = RunResult.SandboxError(entry.Id, "the sandbox failed unexpectedly while running this; it has been logged") with
            {
                Language = entry.Plan.Request.Language,
                Profile = entry.Plan.Profile.Name,
                Backend = entry.Plan.Backend,
                Limits = entry.Plan.Limits,
            };
        }

        await FinishAsync(entry, result, (long)_time.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>
    /// The one way a run ends: output made safe; its result record, the CPU it charges and its row's end committed in one
    /// transaction; its slot given back; then the final state published. Whoever comes second (a kill racing the worker)
    /// does nothing. When the store cannot take the end, the run is published as a <c>sandbox_error</c> marked
    /// <see cref="RunEntry.RecordFailed"/> (answered 503), never as the outcome a restart would not find.
    /// </summary>
    private async Task FinishAsync(RunEntry entry, RunResult raw, long? runMs, IReadOnlyList<AuditEntry>? records = null)
    {
        if (!entry.TryBeginFinish())
        {
            return;
        }

        var result = raw with
        {
            Stdout = Present(raw.StdoutBytes, raw.Stdout, raw.StdoutTruncated, raw.Limits?.StdoutBytes),
            Stderr = Present(raw.StderrBytes, raw.Stderr, raw.StderrTruncated, raw.Limits?.StderrBytes),
        };
        var completedAt = _time.GetUtcNow();
        try
        {
            var extra = new JsonObject { ["queueMs"] = entry.QueueMs, ["runMs"] = runMs, ["approvalId"] = entry.Approval?.Id };
            var end = entry.ReplayOf is null ? _policy.Complete(entry.Principal, entry.Plan, result, extra, completedAt) : ReplayCompletion(entry, result, extra);
            var transition = end.Writes with
            {
                Complete = Completion(entry, result, completedAt, runMs),
                Audit = [.. records ?? [], .. end.Writes.Audit],
            };
            if (await TryCommitAsync(entry.Id, transition, CancellationToken.None))
            {
                _policy.Publish(end.Alerts);
            }
            else
            {
                entry.RecordFailed = true;
                result = NotRecorded(entry, "the run ended, but its result could not be recorded");
            }
        }
        finally
        {
            // Only after the measured time is charged: for a moment it counts twice, never zero times.
            GiveBack(entry);
        }

        try
        {
            var (usage, tokenUsage) = await UsageAsync(entry.Principal, completedAt, CancellationToken.None);
            entry.Budgets = _ledger.Budgets(entry.Principal, usage, tokenUsage, completedAt);
        }
        catch (Exception ex)
        {
            // Budgets are a courtesy in the answer; a store that cannot read them does not hold the run's end back.
            Log.RunRecordFailed(_logger, entry.Id, ex);
        }

        if (!entry.TryComplete(result, completedAt, runMs))
        {
            return;
        }

        var run = TimeSpan.FromMilliseconds(runMs ?? 0);
        if (runMs is { } ms)
        {
            // A slow-moving average so one long run does not swing Retry-After.
            Volatile.Write(ref _averageRunSeconds, (0.8 * Volatile.Read(ref _averageRunSeconds)) + (0.2 * ms / 1000.0));
        }

        _metrics.RecordRun(result.Status.ToWireName(), entry.Plan.Backend, TimeSpan.FromMilliseconds(entry.QueueMs ?? 0), run);
        Log.Completed(_logger, entry.Id, result.Status.ToWireName(), entry.QueueMs ?? 0, runMs ?? 0);
        _completedInOrder.Enqueue(entry);
        RetainOutput(entry);
        entry.Release();
    }

    /// <summary>Counts a completed run's output against its agent's retention cap, dropping the agent's oldest output past it.</summary>
    private void RetainOutput(RunEntry entry)
    {
        var agent = entry.Principal.Agent.Id;
        lock (_retentionGate)
        {
            var total = _retainedOutput.GetValueOrDefault(agent) + entry.RetainedOutputBytes();
            if (total > _options.MaxRetainedOutputBytesPerAgent)
            {
                // Oldest first (the queue is in completion order), the run just completed last of all.
                foreach (var older in _completedInOrder.Where(e => e.Principal.Agent.Id == agent && !e.OutputDropped))
                {
                    total -= older.DropOutput();
                    if (total <= _options.MaxRetainedOutputBytesPerAgent)
                    {
                        break;
                    }
                }
            }

            _retainedOutput[agent] = total;
        }
    }

    /// <summary>Output as text safe for a model or a terminal; head and tail kept when long, with a marker at a cap cut.</summary>
    private string Present(ReadOnlyMemory<byte> bytes, string decoded, bool truncated, long? cap)
    {
        // Results made without bytes (rejections, cancellations) carry their text only.
        var text = bytes.IsEmpty && decoded.Length > 0 ? decoded : OutputSanitizer.Sanitize(bytes.Span, bytes.Length, _options.MaxOutputTextBytes);
        return truncated ? text + $"\n[output cap of {cap} bytes reached; the rest was discarded and the program was stopped]" : text;
    }

    private static void RequestCancel(RunEntry entry, string reason)
    {
        entry.CancelReason ??= reason;
        entry.Cancellation.Cancel();
    }

    private static RunResult Rejected(RunEntry entry, string code, string reason) =>
        RunResult.Rejected(entry.Id, [new FieldError(code, reason)], entry.Plan.Request.Language) with
        {
            Message = "rejected: " + reason,
            Profile = entry.Plan.Profile.Name,
            Backend = entry.Plan.Backend,
            Limits = entry.Plan.Limits,
        };

    /// <summary>The end of a run the store could not record: our fault, answered as such (503 to a waiting caller), never charged.</summary>
    private static RunResult NotRecorded(RunEntry entry, string what) =>
        RunResult.SandboxError(entry.Id, $"store_unavailable: {what} (the service's store failed, for example a full disk); retry later") with
        {
            Language = entry.Plan.Request.Language,
            Profile = entry.Plan.Profile.Name,
            Backend = entry.Plan.Backend,
            Runtime = entry.Plan.Runtime,
            Limits = entry.Plan.Limits,
        };

    private static RunResult Cancelled(RunEntry entry, string reason) => new()
    {
        RunId = entry.Id,
        Status = RunStatus.Cancelled,
        Message = "cancelled: " + reason,
        Language = entry.Plan.Request.Language,
        Profile = entry.Plan.Profile.Name,
        Backend = entry.Plan.Backend,
        Runtime = entry.Plan.Runtime,
        Limits = entry.Plan.Limits,
    };

    private static ApiProblem ShuttingDown() => new()
    {
        Status = 503,
        Code = "shutting_down",
        Title = "The service is shutting down",
        Detail = "this instance is no longer accepting runs; retry against another instance or after it restarts",
        RetryAfterSeconds = 5,
    };

    /// <summary>Drops results past their retention time, and the oldest when too many are kept.</summary>
    private void Sweep()
    {
        var now = _time.GetUtcNow();
        while (_completedInOrder.TryPeek(out var oldest)
            && (now - oldest.CompletedAt > _options.ResultRetention || _completedInOrder.Count > _options.MaxRetainedRuns))
        {
            if (!_completedInOrder.TryDequeue(out var gone))
            {
                break;
            }

            _runs.TryRemove(gone.Id, out _);
            gone.Cancellation.Dispose();
            lock (_retentionGate)
            {
                var agent = gone.Principal.Agent.Id;
                var left = _retainedOutput.GetValueOrDefault(agent) - gone.RetainedOutputBytes();
                if (left > 0)
                {
                    _retainedOutput[agent] = left;
                }
                else
                {
                    _retainedOutput.Remove(agent);
                }
            }

            if (gone.IdempotencyKey is { } key)
            {
                lock (_idempotencyGate)
                {
                    _idempotency.Remove(key);
                }
            }
        }
    }

    private IDisposable? BeginRunScope(string runId) =>
        _logger.BeginScope(new Dictionary<string, object> { ["RunId"] = runId });

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Run {RunId} accepted: profile {Profile}, backend {Backend}, agent {Agent}")]
        public static partial void Accepted(ILogger logger, string runId, string profile, string backend, string agent);

        [LoggerMessage(2, LogLevel.Information, "Run {RunId} completed: {Status} after {QueueMs} ms queued and {RunMs} ms running")]
        public static partial void Completed(ILogger logger, string runId, string status, long queueMs, long runMs);

        [LoggerMessage(3, LogLevel.Warning, "Queue full: {Running} running and {Queued} queued; refusing a run with 429")]
        public static partial void QueueFull(ILogger logger, int running, int queued);

        [LoggerMessage(4, LogLevel.Error, "Run {RunId} failed inside the service")]
        public static partial void Crashed(ILogger logger, string runId, Exception exception);

        [LoggerMessage(5, LogLevel.Warning, "Shutting down: waiting up to {GraceSeconds} s for {Count} running run(s)")]
        public static partial void Draining(ILogger logger, int count, long graceSeconds);

        [LoggerMessage(7, LogLevel.Warning, "Agent {Agent} is revoked: killing its runs")]
        public static partial void AgentRevoked(ILogger logger, string agent);

        [LoggerMessage(8, LogLevel.Information, "Run {RunId} approved ({ApprovalId}, by {By}); it starts once its agent has a free slot")]
        public static partial void Approved(ILogger logger, string runId, string approvalId, string by);

        [LoggerMessage(9, LogLevel.Error, "Run {RunId} ended while pending, but its approval {ApprovalId} could not be closed")]
        public static partial void WithdrawFailed(ILogger logger, string runId, string approvalId, Exception exception);

        [LoggerMessage(10, LogLevel.Error, "Run {RunId}: its record in the store could not be written or read")]
        public static partial void RunRecordFailed(ILogger logger, string runId, Exception exception);

        [LoggerMessage(11, LogLevel.Error, "An idempotency key could not be looked up in the store; refusing the run with 503")]
        public static partial void KeyLookupFailed(ILogger logger, Exception exception);

        [LoggerMessage(12, LogLevel.Information, "Agent {Agent} over its rate with refused requests; refused with 429")]
        public static partial void RefusalThrottled(ILogger logger, string agent);
    }
}

/// <summary>The outcome of admitting a run: accepted (new or replayed under an idempotency key) or refused with a problem.</summary>
internal sealed record SubmitOutcome(RunEntry? Entry, bool IsReplay, ApiProblem? Problem)
{
    /// <summary>Set for a replay of a run that is only in the store (it ended before a restart); <see cref="Entry"/> is null then.</summary>
    public RunView? StoredView { get; init; }

    public static SubmitOutcome ReplayedStored(RunView view) => new(null, true, null) { StoredView = view };

    public static SubmitOutcome Accepted(RunEntry entry) => new(entry, false, null);

    public static SubmitOutcome Replayed(RunEntry entry) => new(entry, true, null);

    public static SubmitOutcome Refused(ApiProblem problem) => new(null, false, problem);
}

internal enum CancelOutcome
{
    Cancelled,
    Cancelling,
    NotFound,
    AlreadyCompleted,
}

internal static class RunStateNames
{
    public static string Of(RunState state) => state switch
    {
        RunState.PendingApproval => "pending_approval",
        RunState.Queued => "queued",
        RunState.Running => "running",
        _ => "completed",
    };
}
