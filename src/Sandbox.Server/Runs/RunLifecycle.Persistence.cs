using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Runs;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;
using Sandbox.Server.Http;

namespace Sandbox.Server.Runs;

/// <summary>
/// The run's record in the store (issue 11, point 2): a row written at admission, moved at each transition, completed with the caller's view,
/// read back when the run is no longer in memory (after a restart) and when a retried idempotency key is not either.
/// Memory stays the live copy; the store is what a restart sees.
/// </summary>
internal sealed partial class RunLifecycle
{
    /// <summary>Expired rows deleted per sweep: bounded, so a sweep after a long outage cannot hold the write lock for long.</summary>
    private const int MaxExpiredRunsPerSweep = 500;

    /// <summary>How often the watcher deletes expired rows: expiry is minutes, so a write every tick (200 ms) would buy nothing.</summary>
    private static readonly TimeSpan StoreSweepInterval = TimeSpan.FromSeconds(10);

    private long _lastStoreSweep;

    /// <summary>
    /// A run's view for its own agent (or task token): from memory while it is kept there, else from the store, where a
    /// completed run stays for <c>ResultRetention</c> across restarts. Null when neither knows it for this caller.
    /// </summary>
    public async Task<RunView?> FindViewAsync(string id, Principal principal, CancellationToken cancellationToken)
    {
        if (Find(id, principal) is { } entry)
        {
            return View(entry);
        }

        var stored = await _store.FindRunAsync(id, cancellationToken);
        return stored is not null && Owns(principal, stored) ? StoredView(stored, principal) : null;
    }

    /// <summary>The same visibility as <see cref="Find"/>: the agent's runs, and for a task token only the runs it started.</summary>
    private static bool Owns(Principal principal, StoredRun stored) =>
        stored.AgentId == principal.Agent.Id && (!principal.IsTaskToken || stored.CredentialId == principal.Credential.Id);

    /// <summary>The row an accepted run gets at admission; its expiry covers the longest wait until completion moves it.</summary>
    private StoredRun NewStoredRun(RunEntry entry, string? idempotencyKey, string? fingerprint, string? needs = null) => new()
    {
        Needs = needs,
        RunId = entry.Id,
        AgentId = entry.Principal.Agent.Id,
        CredentialId = entry.Principal.Credential.Id,
        IdempotencyKey = idempotencyKey,
        RequestSha256 = fingerprint,
        Plan = new JsonObject
        {
            ["language"] = entry.Plan.Request.Language,
            ["profile"] = entry.Plan.Profile.Name,
            ["backend"] = entry.Plan.Backend,
            ["runtime"] = entry.Plan.Runtime,
        }.ToJsonString(),
        State = RunStateNames.Of(entry.State),
        // For a replay (RunLifecycle.Replay), and for the node that claims an offered run, which answers in its caller's form.
        Inputs = JsonSerializer.Serialize(needs is null || !entry.RawOutput ? RunInputs.Of(entry.Plan) : RunInputs.Of(entry.Plan) with { RawOutput = true },
            ServerJsonContext.Default.RunInputs),
        CreatedAt = entry.CreatedAt,
        // An open row must outlive its run (an approval may wait ApprovalTimeout); completion sets completed + ResultRetention,
        // which is how long memory keeps a result too.
        ExpiresAt = entry.CreatedAt + _options.ResultRetention + _guard.Options.ApprovalTimeout + TimeSpan.FromHours(1),
    };

    /// <summary>
    /// The run's end as its row keeps it, with the view the caller gets, committed before the run is published as completed:
    /// whoever is answered "completed" can find the same result after a crash.
    /// </summary>
    private RunCompletion Completion(RunEntry entry, RunResult result, DateTimeOffset completedAt, long? runMs)
    {
        var view = View(entry) with
        {
            State = RunStateNames.Of(RunState.Completed),
            CompletedAt = completedAt,
            QueueMs = entry.QueueMs ?? (long)(completedAt - entry.CreatedAt).TotalMilliseconds,
            RunMs = runMs,
            Result = result,
            Raw = entry.RawOutput
                ? new RawOutput(Convert.ToBase64String(result.StdoutBytes.Span), Convert.ToBase64String(result.StderrBytes.Span))
                : null,
        };
        return new RunCompletion(entry.Id, result.Status.ToWireName(), Reason: null, completedAt,
            JsonSerializer.Serialize(view, ServerJsonContext.Default.RunView), completedAt + _options.ResultRetention)
        {
            Artifacts = [.. (result.Artifacts ?? []).Select(a => new StoredArtifact(a.Path, a.MediaType, a.Sha256, a.Content))],
        };
    }

    /// <summary>
    /// One file a run returned, for its own agent (or task token): its description from the run's result, which must name it,
    /// and its bytes from the store (a completed run keeps none in memory) unless the result in hand still carries them.
    /// Null when the run is not the caller's or not known; the description without bytes never happens for a run the store completed.
    /// </summary>
    public async Task<(RunView Run, RunArtifact? Artifact)?> FindArtifactAsync(string id, string path, Principal principal, CancellationToken cancellationToken)
    {
        if (await FindViewAsync(id, principal, cancellationToken) is not { } view)
        {
            return null;
        }

        // Only a name the result lists is looked up: the path is the caller's, never a file system path on either side.
        if (view.Result?.Artifacts?.FirstOrDefault(a => string.Equals(a.Path, path, StringComparison.Ordinal)) is not { } listed)
        {
            return (view, null);
        }

        if (listed.Content.Length == listed.SizeBytes)
        {
            return (view, listed);
        }

        var stored = await _store.FindRunArtifactAsync(id, path, cancellationToken);
        return (view, stored is null || stored.Sha256 != listed.Sha256 ? null : listed with { Content = stored.Bytes });
    }

    /// <summary>A stored run as its caller sees it: the view saved at completion, or what reconciliation recorded.</summary>
    private static RunView StoredView(StoredRun stored, Principal principal)
    {
        if (stored.View is { } json && JsonSerializer.Deserialize(json, ServerJsonContext.Default.RunView) is { } view)
        {
            return view;
        }

        // Closed by start-up reconciliation (the service died under it), or open in a process that did not record its end.
        var plan = stored.Plan is { } p ? JsonNode.Parse(p) : null;
        return new RunView
        {
            Id = stored.RunId,
            State = stored.State,
            CreatedAt = stored.CreatedAt,
            CompletedAt = stored.CompletedAt,
            Agent = principal.Agent.Name,
            Result = stored.State == RunStateNames.Of(RunState.Completed)
                ? RunResult.SandboxError(stored.RunId, $"{stored.Status ?? "interrupted"}: {stored.Reason ?? "the service stopped before the run's result was recorded"}") with
                {
                    Language = plan?["language"]?.GetValue<string>(),
                    Profile = plan?["profile"]?.GetValue<string>(),
                    Backend = plan?["backend"]?.GetValue<string>(),
                    Runtime = plan?["runtime"]?.GetValue<string>(),
                }
                : null,
        };
    }

    /// <summary>The key's run from the store when memory no longer has it (a restart): replayed, or 422 for another body.</summary>
    private async Task<SubmitOutcome?> ReplayStoredAsync(Principal principal, string scopedKey, string idempotencyKey, string? fingerprint, CancellationToken cancellationToken)
    {
        if (await _store.FindRunByIdempotencyKeyAsync(scopedKey, cancellationToken) is not { } stored || !Owns(principal, stored))
        {
            return null;
        }

        return stored.RequestSha256 == fingerprint
            ? SubmitOutcome.ReplayedStored(StoredView(stored, principal))
            : SubmitOutcome.Refused(KeyReused(idempotencyKey, stored.RunId));
    }

    /// <summary>Deletes rows past their expiry, a bounded batch at most every <see cref="StoreSweepInterval"/>.</summary>
    private async Task SweepStoreAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        if (_lastStoreSweep != 0 && _time.GetElapsedTime(_lastStoreSweep, now) < StoreSweepInterval)
        {
            return;
        }

        _lastStoreSweep = now;
        await _store.DeleteExpiredRunsAsync(_time.GetUtcNow(), MaxExpiredRunsPerSweep, cancellationToken);
    }

    private static ApiProblem KeyReused(string idempotencyKey, string runId) => new()
    {
        Status = 422,
        Code = "idempotency_key_reused",
        Title = "The idempotency key was used for a different request",
        Detail = $"Idempotency-Key '{idempotencyKey}' already belongs to run {runId} with a different body; use a new key for a new request",
    };

    /// <summary>For a caller waiting on a run that ended but whose end the store did not take: never answered as a result.</summary>
    internal static ApiProblem ResultNotRecorded(string runId) => ApiProblem.StoreUnavailable("The run's result could not be recorded",
        $"run {runId} ended, but the service could not write its result (its store failed, for example a full disk), so it is not reported as one; its slot was given back; retry later");

    internal static ApiProblem StoreUnavailable() => ApiProblem.StoreUnavailable("The run could not be recorded",
        "the service could not write the run's record (its store failed, for example a full disk); nothing ran and nothing was held; retry later");
}
