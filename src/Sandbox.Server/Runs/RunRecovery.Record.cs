using System.Text.Json;
using System.Text.Json.Nodes;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;
using Sandbox.Server.Http;
using Sandbox.Server.Output;

namespace Sandbox.Server.Runs;

/// <summary>A recovered run's end, recorded as a live run's would be.</summary>
internal sealed partial class RunRecovery
{
    private async Task RecordAsync(StoredRun stored, OpenRun open, RunResult found, CancellationToken cancellationToken)
    {
        var plan = stored.Plan is { } p ? JsonNode.Parse(p) : null;
        var result = found with
        {
            Language = plan?["language"]?.GetValue<string>(),
            Profile = plan?["profile"]?.GetValue<string>(),
            Backend = plan?["backend"]?.GetValue<string>() ?? BackendNames.Docker,
            Runtime = found.Runtime ?? plan?["runtime"]?.GetValue<string>(),
            // The same text a live run's caller gets: safe for a model or a terminal.
            Stdout = OutputSanitizer.Sanitize(found.StdoutBytes.Span, found.StdoutBytes.Length, _options.MaxOutputTextBytes),
            Stderr = OutputSanitizer.Sanitize(found.StderrBytes.Span, found.StderrBytes.Length, _options.MaxOutputTextBytes),
        };
        var now = _time.GetUtcNow();

        // The CPU it used is charged as a live run's would be, its compile step's included: an agent does not get free CPU
        // from our crash. A sandbox_error is ours, and free, as in RunPolicy.Complete.
        var cpuMs = result.Status == RunStatus.SandboxError ? 0 : result.Usage.CpuMs + (result.Usage.CompileCpuMs ?? 0);
        var charges = new List<UsageCharge>();
        var storedBytes = StoredBytes.OfResult(result);
        if (cpuMs > 0 || storedBytes > 0)
        {
            charges.Add(new UsageCharge(stored.AgentId, CapLedger.Day(now), 0, cpuMs, storedBytes));
        }

        if (cpuMs > 0)
        {
            if ((await _store.FindCredentialAsync(stored.CredentialId, cancellationToken))?.Kind == CredentialKind.TaskToken)
            {
                charges.Add(new UsageCharge(stored.CredentialId, CapLedger.LifePeriod, 0, cpuMs));
            }
        }

        var record = AuditRecords.Result(stored.AgentId, stored.RunId, result, new JsonObject { ["recovered"] = true, ["lastStage"] = open.Stage });

        var view = new RunView
        {
            Id = stored.RunId,
            State = RunStateNames.Of(RunState.Completed),
            CreatedAt = stored.CreatedAt,
            CompletedAt = now,
            RunMs = result.Usage.WallMs,
            Result = result,
            Agent = (await _store.FindAgentAsync(stored.AgentId, cancellationToken))?.Name,
        };
        // The run's end, its charge and its record in one transaction, as a live run's end is: all of it or nothing. The
        // output it persisted as it streamed is deleted with it: the view is now its one copy.
        await _store.CommitAsync(new RunTransition
        {
            Complete = new RunCompletion(stored.RunId, result.Status.ToWireName(), Reason: null, now, JsonSerializer.Serialize(view, ServerJsonContext.Default.RunView), now + _options.ResultRetention),
            Charges = charges,
            Audit = [record],
        }, cancellationToken);
    }
}
