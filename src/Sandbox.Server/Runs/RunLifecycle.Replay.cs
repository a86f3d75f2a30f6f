using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sandbox.Core.Runs;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;
using Sandbox.Server.Http;

namespace Sandbox.Server.Runs;

/// <summary>
/// Replay (issue 11, point 8): a kept run re-executed with its stored inputs, its receipted profile, runtime and limits,
/// and the image or module digest its receipt names, as a new run of the same agent whose receipt names the original.
/// It is admitted, queued, run and finished like any run (row, receipt, result record in one transaction each).
/// </summary>
internal sealed partial class RunLifecycle
{
    /// <summary>
    /// Replays <paramref name="runId"/> on behalf of its agent, waits for the replay to complete and compares the two.
    /// A run not kept (unknown, or past retention), or kept without inputs, is a 404 naming it; one not completed yet is
    /// a 409; a digest no longer on this host is a 409 naming it: nothing else is run in its place.
    /// </summary>
    public async Task<(ReplayView? View, ApiProblem? Problem)> ReplayAsync(string runId, string actor, CancellationToken cancellationToken)
    {
        if (await _store.FindRunAsync(runId, cancellationToken) is not { } stored)
        {
            return (null, ReplayProblem(404, "run_not_found", "The run is not kept", $"run '{runId}' is unknown or past its retention, so there is nothing to replay"));
        }

        if (stored.State != RunStateNames.Of(RunState.Completed))
        {
            // Nothing to compare with yet, and the original may still be running: a replay now would only race it.
            return (null, ReplayProblem(409, "run_not_completed", "The run has not completed", $"run '{runId}' is {stored.State}; replay it once it has completed"));
        }

        if (await _store.FindRunInputsAsync(runId, cancellationToken) is not { } json
            || JsonSerializer.Deserialize(json, ServerJsonContext.Default.RunInputs) is not { } inputs)
        {
            return (null, ReplayProblem(404, "run_inputs_not_stored", "The run's inputs were not stored", $"run '{runId}' was admitted before its inputs were kept (or its inputs are gone), so it cannot be replayed"));
        }

        if (await _store.FindAgentAsync(stored.AgentId, cancellationToken) is not { } agent
            || await _store.FindCredentialAsync(stored.CredentialId, cancellationToken) is not { } credential)
        {
            return (null, ReplayProblem(404, "run_agent_not_found", "The run's agent is gone", $"run '{runId}' belongs to agent {stored.AgentId}, which is no longer in the store"));
        }

        var principal = new Principal(agent, credential);
        var replayId = _pipeline.NewRunId();

        // The receipted profile, runtime and limits exactly (which the profile allowed when the run was admitted), not the
        // language's default or a wasm fallback.
        var (plan, errors) = PlanAsReceipted(inputs, replayId);
        if (plan is null)
        {
            return (null, ReplayProblem(409, "replay_not_plannable", "The run cannot be planned as it was",
                $"run '{runId}' ran under profile '{inputs.Profile}' ({inputs.Backend}), which this service cannot plan now: " +
                string.Join("; ", errors.Select(e => e.ToString()))));
        }

        if (inputs.ArtifactDigest is { } digest && await _pipeline.FindDigestAsync(plan, cancellationToken) != digest)
        {
            return (null, ReplayProblem(409, "artifact_digest_missing", "The run's image or module is no longer here",
                $"run '{runId}' ran on {inputs.Backend} {(inputs.Backend == "docker" ? "image" : "module")} {digest}, which is not present on this host now; nothing else is run in its place"));
        }

        if (!_accepting)
        {
            return (null, ShuttingDown());
        }

        // The operator's act, not the agent's: no rate, budget, concurrency slot or detector is charged for it.
        var entry = NewEntry(principal, plan, rawOutput: false, approval: null);
        entry.ReplayOf = runId;
        // Request and decision records as for any run, so start-up reconciliation closes a replay the service died under;
        // the code is the original's (its request record has it), so only its hash is written again.
        var request = AuditRecords.Request(principal, plan.Request, entry.Id, plan.Profile.Name, _policy.NodeId, withCode: false);
        request.Data!["replayOf"] = runId;
        var decision = AuditRecords.Decision(principal, entry.Id, "allowed", "replay", $"replay of run {runId} by {actor}");
        var receipt = AuditRecords.Receipt(principal, plan, new JsonObject { ["replayOf"] = runId, ["replayedBy"] = actor });
        if (!await TryCommitAsync(entry.Id, new RunTransition { Admit = NewStoredRun(entry, null, null), Audit = [request, decision, receipt] }, cancellationToken))
        {
            entry.Cancellation.Dispose();
            return (null, StoreUnavailable());
        }

        _runs[entry.Id] = entry;
        if (!_scheduler.TryEnqueue(entry))
        {
            var refused = _accepting ? QueueFull() : ShuttingDown();
            await FinishAsync(entry, Rejected(entry, refused.Code, refused.Detail), runMs: null);
            _runs.TryRemove(entry.Id, out _);
            return (null, refused);
        }

        await entry.Completed.WaitAsync(cancellationToken);
        var original = StoredView(stored, principal);
        var replay = View(entry);
        var differences = Differences(original.Result, replay.Result);
        return (new ReplayView
        {
            Original = runId,
            Replay = entry.Id,
            ArtifactDigest = inputs.ArtifactDigest,
            Identical = differences.Count == 0,
            Differences = differences,
            OriginalRun = original,
            ReplayRun = replay,
        }, null);
    }

    /// <summary>The end a replay writes: its result record only; no charge and no detector (see <see cref="ReplayAsync"/>).</summary>
    private static CompletionWrites ReplayCompletion(RunEntry entry, RunResult result, JsonObject extra)
    {
        extra["replayOf"] = entry.ReplayOf;
        return new CompletionWrites(new RunTransition { Audit = [AuditRecords.Result(entry.Principal, entry.Plan, result, extra)] }, []);
    }

    /// <summary>Status, exit code, stdout and stderr of the two results, each that differs.</summary>
    internal static List<ReplayDifference> Differences(RunResult? original, RunResult? replay)
    {
        var differences = new List<ReplayDifference>();
        var (status, replayStatus) = (original?.Status.ToWireName(), replay?.Status.ToWireName());
        if (status != replayStatus)
        {
            differences.Add(new ReplayDifference { Field = "status", Original = status, Replay = replayStatus });
        }

        if (original?.ExitCode != replay?.ExitCode)
        {
            differences.Add(new ReplayDifference
            {
                Field = "exitCode",
                Original = original?.ExitCode?.ToString(CultureInfo.InvariantCulture),
                Replay = replay?.ExitCode?.ToString(CultureInfo.InvariantCulture),
            });
        }

        Output("stdout", original?.Stdout ?? "", replay?.Stdout ?? "");
        Output("stderr", original?.Stderr ?? "", replay?.Stderr ?? "");
        return differences;

        void Output(string field, string a, string b)
        {
            if (OutputDiff.Lines(a, b) is { Count: > 0 } diff)
            {
                differences.Add(new ReplayDifference { Field = field, Diff = diff });
            }
        }
    }

    private static ApiProblem ReplayProblem(int status, string code, string title, string detail) =>
        new() { Status = status, Code = code, Title = title, Detail = detail };
}
