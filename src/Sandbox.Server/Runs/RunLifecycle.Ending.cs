using System.Text.Json.Nodes;
using Sandbox.Core.Execution;
using Sandbox.Core.Runs;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;
using Sandbox.Server.Hosting;
using Sandbox.Server.Output;

namespace Sandbox.Server.Runs;

/// <summary>
/// How runs end: run by the backend, cancelled, killed at shutdown after the grace period; each end committed in one
/// transaction (result record, CPU charge, the row's end) before it is published, and the slot given back exactly once;
/// completed runs are kept in memory for the retention period (Sweep).
/// </summary>
internal sealed partial class RunLifecycle
{
    /// <summary>Cancels a queued or running run; it completes as <c>cancelled</c> once its container or engine is gone.</summary>
    public async Task<CancelOutcome> CancelAsync(string id, Principal principal, string reason, TimeSpan wait)
    {
        if (Find(id, principal) is not { } entry)
        {
            // A run start-up recovery follows (the service restarted under it) is cancelled there, on the same terms.
            if (Recovery?.FindFollowed(id) is { } followed && followed.AgentId == principal.Agent.Id
                && (!principal.IsTaskToken || followed.CredentialId == principal.Credential.Id))
            {
                await Recovery.KillAsync([followed], reason, wait);
                return Recovery.IsFollowing(id) ? CancelOutcome.Cancelling : CancelOutcome.Cancelled;
            }

            // On a store nodes share, the run may be another node's: its owner is asked through the store.
            return _store is INodeLeases leases ? await CancelElsewhereAsync(leases, id, principal, reason, wait) : CancelOutcome.NotFound;
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
    /// A DELETE for a run this node does not hold: when the caller's run is open on another node, its owner is asked to
    /// cancel it (it acts within a fraction of a second, see <see cref="ActOnCancelRequestsAsync"/>); waits up to
    /// <paramref name="wait"/> for its end to be stored.
    /// </summary>
    private async Task<CancelOutcome> CancelElsewhereAsync(INodeLeases leases, string id, Principal principal, string reason, TimeSpan wait)
    {
        if (await _store.FindRunAsync(id, CancellationToken.None) is not { } stored || !Owns(principal, stored))
        {
            return CancelOutcome.NotFound;
        }

        if (stored.State == RunStateNames.Of(RunState.Completed) || !await leases.RequestCancelAsync(id, reason, CancellationToken.None))
        {
            return CancelOutcome.AlreadyCompleted;
        }

        if (await CancelOfferedAsync(stored, reason) is { } ended)
        {
            return ended;
        }

        var waited = _time.GetTimestamp();
        while (_time.GetElapsedTime(waited) < wait)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), _time);
            if ((await _store.FindRunAsync(id, CancellationToken.None))?.State is null or "completed")
            {
                return CancelOutcome.Cancelled;
            }
        }

        return CancelOutcome.Cancelling;
    }

    /// <summary>Cancels the runs this node holds that a DELETE on another node asked to cancel; how many it found here.</summary>
    public async Task<int> ActOnCancelRequestsAsync(INodeLeases leases, CancellationToken cancellationToken)
    {
        var acted = 0;
        foreach (var request in await leases.CancelRequestsAsync(cancellationToken))
        {
            if (_runs.TryGetValue(request.RunId, out var entry) && entry.State != RunState.Completed)
            {
                await CancelEntryAsync(entry, request.Reason);
                acted++;
            }
        }

        return acted;
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

        // Runs still going from before a restart are the agent's running code too.
        var followed = Recovery is { } recovery ? recovery.KillAsync(recovery.FollowedOf(agentId), reason, wait) : Task.FromResult(0);
        try
        {
            await Task.WhenAll(entries.Select(e => e.Completed)).WaitAsync(wait, _time);
        }
        catch (TimeoutException)
        {
            // Reported by the caller from the entries' states; the kills go on.
        }

        return entries.Count + await followed;
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

        var followedStopped = 0;
        foreach (var runs in (Recovery?.FollowedOf(agentId) ?? []).Where(f => f.Principal is not null).GroupBy(f => f.CredentialId, StringComparer.Ordinal).ToList())
        {
            if (await _guard.Keys.RevokedCredentialAsync(runs.First().Principal!.Credential, cancellationToken) is { } why)
            {
                followedStopped += await Recovery!.KillAsync(runs, why, wait);
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

        return stopped.Count + followedStopped;
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

        await _journal.DisposeAsync();
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

    private async Task ExecuteAsync(RunEntry entry)
    {
        using var scope = BeginRunScope(entry.Id);
        var started = _time.GetTimestamp();
        if (!entry.TryStart(_time.GetUtcNow(), (long)_time.GetElapsedTime(entry.CreatedTimestamp, started).TotalMilliseconds))
        {
            return;
        }

        // queued -> running, recorded before the code starts: after a crash, a run that may have run is told from one that never did.
        switch (await TryCommitOwnAsync(entry.Id, new RunTransition { Move = new RunStateChange(entry.Id, RunStateNames.Of(RunState.Running)) }))
        {
            case null:
                await FinishAsync(entry, NotRecorded(entry, "the run could not be recorded as started, so it did not start"), runMs: 0);
                return;
            case false:
                // Another node took it over (this node's lease expired while it waited): it runs there, never here too.
                Log.FencedOut(_logger, entry.Id, "start");
                await FinishAsync(entry, Cancelled(entry, "another node took the run over after this node's lease expired; it runs there"), runMs: 0);
                return;
        }

        // From here on its output is persisted as it streams: a crash of the service loses at most the last flush's worth.
        entry.Persisted = _journal.Open(entry.Id, entry.Plan.Limits.StdoutBytes, entry.Plan.Limits.StderrBytes);

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
    private async Task FinishAsync(RunEntry entry, RunResult raw, long? runMs, IReadOnlyList<AuditEntry>? records = null, ApprovalClosing? withdraw = null)
    {
        if (!entry.TryBeginFinish())
        {
            return;
        }

        // Its end keeps the output within caps in its view (and deletes what was flushed): nothing more to persist.
        _journal.Close(entry.Persisted);
        entry.Persisted = null;

        var result = raw with
        {
            Stdout = Present(raw.StdoutBytes, raw.Stdout, raw.StdoutTruncated, raw.Limits?.StdoutBytes),
            Stderr = Present(raw.StderrBytes, raw.Stderr, raw.StderrTruncated, raw.Limits?.StderrBytes),
        };
        var completedAt = _time.GetUtcNow();
        var superseded = false;
        try
        {
            var extra = new JsonObject { ["queueMs"] = entry.QueueMs, ["runMs"] = runMs, ["approvalId"] = entry.Approval?.Id };
            var end = entry.ReplayOf is null ? _policy.Complete(entry.Principal, entry.Plan, result, extra, completedAt) : ReplayCompletion(entry, result, extra);
            var transition = end.Writes with
            {
                Complete = Completion(entry, result, completedAt, runMs),
                Withdraw = withdraw,
                Audit = [.. records ?? [], .. end.Writes.Audit],
            };
            switch (await TryCommitOwnAsync(entry.Id, transition))
            {
                case true:
                    _policy.Publish(end.Alerts);
                    break;
                case false:
                    // The first end wins: it already had one (another process closed it), or this node was taken over and the
                    // survivor closed it or runs it under its own fence. Nothing of this end is written, charges included; the
                    // caller gets the stored end when there is one, and later GETs read the store, never this unrecorded end.
                    Log.FencedOut(_logger, entry.Id, "end");
                    result = await StoredEndAsync(entry) ?? result;
                    superseded = true;
                    break;
                case null:
                    entry.RecordFailed = true;
                    result = NotRecorded(entry, "the run ended, but its result could not be recorded");
                    break;
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

        if (result.Artifacts is { Count: > 0 } artifacts)
        {
            // The store has the bytes, committed with the end above; memory keeps only their description. Otherwise each
            // run kept for ResultRetention would hold up to the profile's total artifact cap, counted against no cap, and
            // one agent's floods would pile up in the service's own memory. Readers fall back to the store (FindArtifactAsync).
            result = result with { Artifacts = [.. artifacts.Select(a => a with { Content = ReadOnlyMemory<byte>.Empty })] };
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
        if (superseded)
        {
            _runs.TryRemove(entry.Id, out _);
        }

        entry.Release();
    }

    /// <summary>The end the store kept for a run whose own end was refused, as its caller sees it; null when it has none yet (another node runs it).</summary>
    private async Task<RunResult?> StoredEndAsync(RunEntry entry)
    {
        try
        {
            return await _store.FindRunAsync(entry.Id, CancellationToken.None) is { State: "completed" } row ? StoredView(row, entry.Principal).Result : null;
        }
        catch (Exception ex)
        {
            Log.RunRecordFailed(_logger, entry.Id, ex);
            return null;
        }
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
}
