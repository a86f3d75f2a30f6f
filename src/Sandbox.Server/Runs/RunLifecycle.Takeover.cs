using System.Text.Json;
using Sandbox.Core.Execution;
using Sandbox.Core.Runs;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;
using Sandbox.Server.Http;

namespace Sandbox.Server.Runs;

/// <summary>
/// Node failure on a shared store (issue 15, point 5): a node whose lease expired is taken over by this one. Its running runs
/// are closed as interrupted (by the guard, with start-up reconciliation's close); its queued runs run here, from the inputs
/// and receipted plan stored at their admission, under their own ids, so a GET or a retried key finds them.
/// </summary>
internal sealed partial class RunLifecycle
{
    /// <summary>Takes over <paramref name="dead"/> (exactly once across the nodes); how many runs it closed or queued here.</summary>
    public async Task<int> TakeOverAsync(INodeLeases leases, NodeLease dead, CancellationToken cancellationToken)
    {
        if (!_accepting)
        {
            // Draining: a node on its way out takes on nothing; another survivor (or the next start) takes the node over.
            return 0;
        }

        if (await _guard.TakeOverAsync(leases, dead, cancellationToken) is not { } takeover)
        {
            return 0;
        }

        foreach (var queued in takeover.Queued.OrderBy(r => r.CreatedAt))
        {
            await QueueStoredAsync(queued, $"taken over from node {dead.NodeId}, whose lease expired", dead.NodeId, cancelRequested: null, cancellationToken);
        }

        return takeover.Closed.Count + takeover.Queued.Count;
    }

    /// <summary>
    /// After this node lost its lease (it was silent past it: paused, or cut off from the database) and took a new one: the
    /// runs it still holds whose rows another node took over meanwhile are stopped here. Their ends would be refused anyway
    /// (fenced), and a queued one must not start beside the survivor's. Returns how many it stopped.
    /// </summary>
    public async Task<int> StopTakenOverAsync(string nodeId, CancellationToken cancellationToken)
    {
        var stopped = 0;
        foreach (var entry in _runs.Values.Where(e => e.State != RunState.Completed).ToList())
        {
            // A row with no owner (admitted while this node had no lease) or still ours is left alone.
            if ((await _store.FindRunAsync(entry.Id, cancellationToken))?.OwnerNode is not { } owner || owner == nodeId)
            {
                continue;
            }

            Log.StoppedTakenOver(_logger, entry.Id, owner);
            await CancelEntryAsync(entry, $"this node's lease expired and node {owner} took the run over");
            stopped++;
        }

        return stopped;
    }

    /// <summary>
    /// Queues here a run taken over while queued (<paramref name="deadNode"/>), or claimed from the shared queue: planned
    /// exactly as its receipt recorded it (profile, backend, runtime, limits and the digest), as a replay is; closed as
    /// interrupted, with the reason, when that cannot be done here. A claimed run a DELETE asked to cancel before the claim
    /// (<paramref name="cancelRequested"/>) is cancelled here without starting.
    /// </summary>
    private async Task QueueStoredAsync(StoredRun stored, string how, string? deadNode, string? cancelRequested, CancellationToken cancellationToken)
    {
        var (entry, why) = await ResumableEntryAsync(stored, cancellationToken);
        if (entry is null)
        {
            if (deadNode is null)
            {
                Log.ClaimRefused(_logger, stored.RunId, why!);
            }
            else
            {
                Log.TakeOverRefused(_logger, stored.RunId, deadNode, why!);
            }

            await _guard.CloseInterruptedAsync(new OpenRun(stored.RunId, stored.AgentId, stored.State, stored.CreatedAt),
                $"{how}, but {why}", cancellationToken);
            return;
        }

        using (await _ledger.LockAsync(entry.Principal.Agent.Id, cancellationToken))
        {
            // Admitted (and counted against the caps across nodes) by the node that wrote it: its slot is held here without asking again.
            _ledger.Hold(entry.Principal, entry.Plan);
            entry.Hold(entry.Plan);
        }

        if (stored.IdempotencyKey is { } key)
        {
            entry.IdempotencyKey = key;
            lock (_idempotencyGate)
            {
                _idempotency[key] = (stored.RequestSha256 ?? "", entry.Id);
            }
        }

        _runs[entry.Id] = entry;
        if (cancelRequested is not null)
        {
            // Nothing started yet: it ends cancelled here, once, as a queued run cancelled by a local DELETE does.
            await CancelEntryAsync(entry, cancelRequested);
            return;
        }

        if (!_scheduler.TryEnqueue(entry))
        {
            var refused = _accepting ? QueueFull() : ShuttingDown();
            await FinishAsync(entry, Rejected(entry, refused.Code, $"{how}, but {refused.Detail}"), runMs: null);
            return;
        }

        if (deadNode is null)
        {
            Log.Claimed(_logger, entry.Id);
        }
        else
        {
            Log.TakenOver(_logger, entry.Id, deadNode);
        }
    }

    /// <summary>The entry that runs <paramref name="stored"/> here, or why it cannot.</summary>
    private async Task<(RunEntry? Entry, string? Why)> ResumableEntryAsync(StoredRun stored, CancellationToken cancellationToken)
    {
        if (await _store.FindRunInputsAsync(stored.RunId, cancellationToken) is not { } json
            || JsonSerializer.Deserialize(json, ServerJsonContext.Default.RunInputs) is not { } inputs)
        {
            return (null, "its inputs were not stored");
        }

        if (await _store.FindAgentAsync(stored.AgentId, cancellationToken) is not { } agent
            || await _store.FindCredentialAsync(stored.CredentialId, cancellationToken) is not { } credential)
        {
            return (null, "its agent or key is gone");
        }

        var principal = new Principal(agent, credential);
        if (agent.RevokedAt is not null || await _guard.Keys.RevokedCredentialAsync(credential, cancellationToken) is not null)
        {
            // Revocation kills an agent's runs on every node: one taken over must not start either.
            return (null, "its agent or key was revoked");
        }

        var (plan, errors) = PlanAsReceipted(inputs, stored.RunId);
        if (plan is null)
        {
            return (null, $"this node cannot plan it as receipted ({string.Join("; ", errors.Select(e => e.ToString()))})");
        }

        if (inputs.ArtifactDigest is { } digest && await _pipeline.FindDigestAsync(plan, cancellationToken) != digest)
        {
            // Nothing else is run in its place: the receipt names what runs.
            return (null, $"its {(inputs.Backend == "docker" ? "image" : "module")} {digest} is not on this node");
        }

        // A claimed run answers in the form its caller asked for at the admitting node (raw output, base64).
        var entry = new RunEntry(principal, plan, stored.CreatedAt, _time.GetTimestamp(), rawOutput: inputs.RawOutput == true,
            (int)Math.Min(int.MaxValue, plan.Limits.StdoutBytes + plan.Limits.StderrBytes));
        return (entry, null);
    }

    /// <summary>
    /// The plan a stored run's receipt recorded, under <paramref name="runId"/>: its profile (not the language's default or a
    /// fallback), backend, runtime and limits exactly. Null, with the errors, when this service cannot plan it so now.
    /// </summary>
    private (RunPlan? Plan, IReadOnlyList<FieldError> Errors) PlanAsReceipted(RunInputs inputs, string runId)
    {
        // The runtime the request asked for is validated as asked (a plan's runtime, such as bubblewrap, is no request value);
        // the receipted one replaces it below.
        var (planned, errors) = _pipeline.Plan(inputs.Request with { Profile = inputs.Profile, Backend = inputs.Backend }, runId);
        if (planned is null || planned.Profile.Name != inputs.Profile || planned.Backend != inputs.Backend)
        {
            return (null, errors);
        }

        return (planned with { Limits = inputs.Limits, Runtime = inputs.Runtime, ArtifactDigest = inputs.ArtifactDigest }, errors);
    }
}
