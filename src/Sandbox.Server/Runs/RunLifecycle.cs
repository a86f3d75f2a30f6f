using System.Collections.Concurrent;
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
    private readonly OutputJournal _journal;
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
        _scheduler = new RunScheduler<RunEntry>(options.MaxConcurrentRuns, options.MaxQueueLength, ExecuteAsync, () => SlotFreed?.Invoke());
        _journal = new OutputJournal(store, time, logger);
        metrics.ObserveScheduler(() => _scheduler.QueueDepth, () => _scheduler.Running, options.MaxConcurrentRuns, options.MaxQueueLength);
    }

    public RunPipeline Pipeline => _pipeline;

    public RunGuard Guard => _guard;

    /// <summary>Start-up recovery, following runs the service restarted under; cancel and revocation reach them through it.</summary>
    public RunRecovery? Recovery { get; init; }

    /// <summary>The data folder's disk reserve, below which new runs are refused; null when it is off.</summary>
    internal DataDiskReserve? DiskReserve { get; init; }

    public int QueueDepth => _scheduler.QueueDepth;

    /// <summary>Where running runs' output is persisted as it streams.</summary>
    internal OutputJournal Journal => _journal;

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
            if (outcome.Problem?.Code == "store_unavailable")
            {
                // Another node bound the key between the lookup above and this admission's write (a shared store's unique
                // key refused ours, and nothing of ours was kept): its run is this request's answer, as on one node.
                try
                {
                    outcome = await ReplayStoredAsync(principal, scopedKey, idempotencyKey, fingerprint, cancellationToken) ?? outcome;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.KeyLookupFailed(_logger, ex);
                }
            }

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

    /// <summary>Admits a cell of <paramref name="session"/> as a run (the guard, budgets, queue and store alike); its receipt names the session.</summary>
    public Task<SubmitOutcome> SubmitCellAsync(Principal principal, RunRequest request, bool rawOutput, IExecutionSession session, CancellationToken cancellationToken)
    {
        Sweep();
        return AdmitAsync(principal, request, rawOutput, null, null, cancellationToken, session);
    }

    /// <summary>The plan a request would get, without admitting it.</summary>
    public (RunPlan? Plan, IReadOnlyList<FieldError> Errors) Plan(RunRequest request, Principal principal) => _pipeline.PlanForRun(request, _pipeline.NewRunId(), principal.Allows);

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

    /// <summary>Every run held in memory, of every agent, for the operator's console (which sees across agents, as the admin key does).</summary>
    internal IReadOnlyList<RunEntry> AllEntries()
    {
        Sweep();
        return [.. _runs.Values];
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

    private async Task<SubmitOutcome> AdmitAsync(Principal principal, RunRequest request, bool rawOutput, string? scopedKey, string? fingerprint, CancellationToken cancellationToken, IExecutionSession? session = null)
    {
        var runId = _pipeline.NewRunId();
        if (!_accepting)
        {
            _metrics.RecordRefusal("shutting_down");
            return await RefuseAsync(principal, request, runId, ShuttingDown(), cancellationToken);
        }

        if (DiskReserve?.Shortfall() is { } shortfall)
        {
            // Refused before anything is written: the disk's last room is for the runs already admitted to record their ends.
            _metrics.RecordRefusal("store_unavailable");
            return SubmitOutcome.Refused(ApiProblem.StoreUnavailable("The service's disk is nearly full", shortfall));
        }

        var guardErrors = _policy.CheckRequest(request);
        var (plan, errors) = guardErrors.Count == 0 ? _pipeline.PlanForRun(request, runId, principal.Allows) : (null, guardErrors);
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
        plan = session is null ? plan : plan with { Session = session }; // a cell runs in its session's sandbox

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
                    return await CommitRefusalAsync(principal, decision.Writes, Forbidden(admission.Errors ?? [], admission.Reason!), cancellationToken);
                case AdmissionKind.Throttled:
                    _metrics.RecordRefusal(admission.Cap!);
                    return await CommitRefusalAsync(principal, decision.Writes, ApiProblem.CapExceeded(admission.Cap!, admission.Reason!, admission.RetryAfterSeconds), cancellationToken);
                case AdmissionKind.Pending:
                {
                    // Admitted, waiting for a human: the row, the approval and the records in one transaction, so an approval
                    // never waits for a run a restart would not know, and a failed write leaves nothing for an operator to decide.
                    var pending = NewEntry(principal, plan, rawOutput, admission.Approval);
                    var (pendingWritten, pendingRefusedBy) = await TryAdmitAsync(pending, decision.Writes with { Admit = NewStoredRun(pending, scopedKey, fingerprint) }, now, cancellationToken);
                    if (!pendingWritten)
                    {
                        _policy.Withdraw(principal, pending.Id); // never admitted: no phantom observation for the detectors
                        pending.Cancellation.Dispose();
                        return pendingRefusedBy is null
                            ? SubmitOutcome.Refused(StoreUnavailable())
                            : await RefuseAcrossNodesAsync(principal, request, pending.Id, pendingRefusedBy, cancellationToken);
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
            var offer = Offers(session); // on a store nodes share, with no free slot here: any node's to claim (RunLifecycle.Claims)
            var admit = decision.Writes with
            {
                Admit = offer ? NewStoredRun(entry, scopedKey, fingerprint, NeedsOf(entry.Plan)) : NewStoredRun(entry, scopedKey, fingerprint),
                Audit = [.. decision.Writes.Audit, AuditRecords.Receipt(principal, entry.Plan, extra: entry.Plan.Session is { } cellOf ? new System.Text.Json.Nodes.JsonObject { ["sessionId"] = cellOf.Id } : null)],
            };
            var (written, refusedBy) = await TryAdmitAsync(entry, admit, now, cancellationToken);
            if (!written)
            {
                // Nothing was written and nothing runs: give back the slot and the CPU reservation (a leak here locked the
                // agent out with 429 until a restart), and tell the caller it is our store, not its request, or which cap
                // the agent's runs on the other nodes sharing the store have used up.
                GiveBack(entry);
                _policy.Withdraw(principal, entry.Id); // never admitted: no phantom observation for the detectors
                entry.Cancellation.Dispose();
                return refusedBy is null
                    ? SubmitOutcome.Refused(StoreUnavailable())
                    : await RefuseAcrossNodesAsync(principal, request, entry.Id, refusedBy, cancellationToken);
            }

            _ledger.CountAdmission(principal, now);
            _policy.Publish(decision.Alerts);
            if (offer)
            {
                // Its claimer holds its slot; the store counts its row against the agent's caps on every node meanwhile.
                GiveBack(entry);
                entry.Cancellation.Dispose();
                return SubmitOutcome.Offer(Offer(entry));
            }

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
        if (_ledger.CountAgainstRate(principal, _time.GetUtcNow()) is not { } throttled)
        {
            return null;
        }

        Log.RefusalThrottled(_logger, principal.Agent.Name);
        return ApiProblem.CapExceeded(throttled.Cap!, throttled.Reason!, throttled.RetryAfterSeconds);
    }

    /// <summary>
    /// Counts a session's open against the agent's rate, or returns the 429 to answer instead: each open starts a container
    /// (a sandbox, as a run's), and uncounted one agent capped at 10 runs a minute opened and closed 353 sessions a minute.
    /// </summary>
    public ApiProblem? CountSessionOpen(Principal principal) =>
        _ledger.CountAgainstRate(principal, _time.GetUtcNow()) is { } throttled
            ? ApiProblem.CapExceeded(throttled.Cap!, throttled.Reason!, throttled.RetryAfterSeconds)
            : null;

    /// <summary>What remains of each of the principal's budgets now.</summary>
    public async Task<IReadOnlyList<Budget>> BudgetsAsync(Principal principal, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var (usage, tokenUsage) = await UsageAsync(principal, now, cancellationToken);
        return _ledger.Budgets(principal, usage, tokenUsage, now);
    }

    /// <summary>A request refused before the guard's decision: its request and rejection records, then the problem (503 if they cannot be written).</summary>
    private Task<SubmitOutcome> RefuseAsync(Principal principal, RunRequest request, string runId, ApiProblem problem, CancellationToken cancellationToken) =>
        CommitRefusalAsync(principal, _policy.Refusal(principal, request, runId, problem.Code, problem.Detail), problem, cancellationToken);

    private async Task<SubmitOutcome> CommitRefusalAsync(Principal principal, RunTransition records, ApiProblem problem, CancellationToken cancellationToken)
    {
        // Refusals have no cap of their own (an agent over its rate is refused as fast as it asks): past so many in the
        // agent's minute they are counted, not recorded one by one (RefusalAudit), and the caller's answer is the same.
        var code = problem.Cap is { } cap ? $"{problem.Code}:{cap}" : problem.Code;
        if (!await _guard.Refusals.AdmitAsync(principal.Agent.Id, code, cancellationToken))
        {
            return SubmitOutcome.Refused(problem);
        }

        Log.Refused(_logger, principal.Agent.Name, code);

        return SubmitOutcome.Refused(await TryCommitAsync(runId: null, records, cancellationToken) ? problem : StoreUnavailable());
    }

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

    /// <summary>
    /// A step of a run's life this node owns: true when committed; false when the store refused it (the run already had an
    /// end, or another node owns it now: see <see cref="INodeLeases"/>); null, logged, when the store failed.
    /// </summary>
    private async Task<bool?> TryCommitOwnAsync(string runId, RunTransition transition)
    {
        try
        {
            return await _store.CommitAsync(transition, CancellationToken.None);
        }
        catch (Exception ex)
        {
            _metrics.RecordRefusal("store_unavailable");
            Log.RunRecordFailed(_logger, runId, ex);
            return null;
        }
    }

    /// <summary>A run the store refused because the agent's runs on the other nodes used up <paramref name="cap"/>: 429, with its records.</summary>
    private Task<SubmitOutcome> RefuseAcrossNodesAsync(Principal principal, RunRequest request, string runId, string cap, CancellationToken cancellationToken)
    {
        _metrics.RecordRefusal(cap);
        return RefuseAsync(principal, request, runId, ApiProblem.CapExceeded(cap,
            $"agent '{principal.Agent.Name}' has used its {cap} with runs on the service's other nodes; retry when one of them finishes", 1), cancellationToken);
    }

    /// <summary>
    /// Writes a run's admission (allowed, or waiting for approval), checked by the store against the agent's caps on every node that shares it (see
    /// <see cref="IGuardStore.AdmitWithinCapsAsync"/>): (true, null) when written; (false, the cap) when the other nodes'
    /// runs leave no room; (false, null), logged, when the store fails. Nothing is written unless the first.
    /// </summary>
    private async Task<(bool Written, string? RefusedBy)> TryAdmitAsync(RunEntry entry, RunTransition admit, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var agent = entry.Principal.Agent;
        var caps = new AdmissionCaps(agent.Id, agent.MaxConcurrentRuns, agent.RatePerMinute, (long)(agent.DailyCpuSeconds * 1000), CapLedger.Day(now),
            entry.Plan.Limits.CpuTimeMs + (entry.Plan.Profile.Compile?.Limits.CpuTimeMs ?? 0), now);
        try
        {
            var refusedBy = await _store.AdmitWithinCapsAsync(admit, caps, cancellationToken);
            return (refusedBy is null, refusedBy);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _metrics.RecordRefusal("store_unavailable");
            Log.RunRecordFailed(_logger, entry.Id, ex);
            return (false, null);
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

        [LoggerMessage(10, LogLevel.Error, "Run {RunId}: its record in the store could not be written or read")]
        public static partial void RunRecordFailed(ILogger logger, string runId, Exception exception);

        [LoggerMessage(6, LogLevel.Information, "Refused a run of agent {Agent}: {Code}")]
        public static partial void Refused(ILogger logger, string agent, string code);

        [LoggerMessage(11, LogLevel.Error, "An idempotency key could not be looked up in the store; refusing the run with 503")]
        public static partial void KeyLookupFailed(ILogger logger, Exception exception);

        // Debug: the refusal before it was logged if it was recorded; a loop of them must not fill the log (RefusalAudit).
        [LoggerMessage(12, LogLevel.Debug, "Agent {Agent} over its rate with refused requests; refused with 429")]
        public static partial void RefusalThrottled(ILogger logger, string agent);

        [LoggerMessage(13, LogLevel.Warning, "Run {RunId}: its {Step} was not written: it already had an end, or another node took it over after this node's lease expired (fenced)")]
        public static partial void FencedOut(ILogger logger, string runId, string step);

        [LoggerMessage(14, LogLevel.Warning, "Run {RunId} taken over from node {DeadNode}, whose lease expired: queued here with its stored inputs")]
        public static partial void TakenOver(ILogger logger, string runId, string deadNode);

        [LoggerMessage(15, LogLevel.Warning, "Run {RunId} taken over from node {DeadNode} cannot run here ({Why}); closed as interrupted")]
        public static partial void TakeOverRefused(ILogger logger, string runId, string deadNode, string why);

        [LoggerMessage(16, LogLevel.Warning, "Run {RunId} was taken over by node {Owner} while this node's lease had lapsed: stopped here")]
        public static partial void StoppedTakenOver(ILogger logger, string runId, string owner);
    }
}

/// <summary>The outcome of admitting a run: accepted (new or replayed under an idempotency key) or refused with a problem.</summary>
internal sealed record SubmitOutcome(RunEntry? Entry, bool IsReplay, ApiProblem? Problem)
{
    /// <summary>Set for a replay of a run that is only in the store (it ended before a restart); <see cref="Entry"/> is null then.</summary>
    public RunView? StoredView { get; init; }

    public static SubmitOutcome ReplayedStored(RunView view) => new(null, true, null) { StoredView = view };

    /// <summary>Set for a run admitted here and offered to every node (see <c>RunLifecycle.Claims</c>); <see cref="Entry"/> is null then.</summary>
    public OfferedRun? Offered { get; init; }

    public static SubmitOutcome Offer(OfferedRun offered) => new(null, false, null) { Offered = offered };

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
