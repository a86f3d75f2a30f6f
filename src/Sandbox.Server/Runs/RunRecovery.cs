using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Client;
using Sandbox.Docker.Recovery;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;
using Sandbox.Server.Hosting;
using Sandbox.Server.Http;
using Sandbox.Server.Output;

namespace Sandbox.Server.Runs;

/// <summary>
/// Start-up recovery of the runs the service died under (issue 11, point 3), before reconciliation closes the rest as
/// <c>interrupted</c>: a run whose container is found gets its real end (followed to it when still running), recorded
/// as the run would have recorded it (the audit result, its CPU charged, the stored view a GET and a retried key
/// answer with), and its container removed. A run that completed is never recorded <c>interrupted</c>.
/// </summary>
internal static partial class RunRecovery
{
    /// <summary>How long the daemon may take to answer before recovery gives up on it (the runs are then reconciled as interrupted).</summary>
    private static readonly TimeSpan s_pingTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Recovers this node's open runs that have a container; returns how many got their real end.</summary>
    public static async Task<int> RecoverAsync(IGuardStore store, RunGuard guard, ServerOptions options, ILoggerFactory loggers, TimeProvider time, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger("Sandbox.Server.Runs.RunRecovery");
        var open = new Dictionary<string, OpenRun>(StringComparer.Ordinal);
        foreach (var run in await guard.OwnOpenRunsAsync(cancellationToken))
        {
            open[run.RunId] = run;
        }

        if (open.Count == 0)
        {
            return 0;
        }

        using var docker = DockerClient.FromEnvironment();
        try
        {
            using var ping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            ping.CancelAfter(s_pingTimeout);
            await docker.PingAsync(ping.Token);
        }
        catch (Exception ex) when (ex is Core.Errors.SandboxException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Log.DockerDown(logger, open.Count);
            return 0;
        }

        var started = time.GetTimestamp();
        var recovered = await new ContainerRecovery(docker, CgroupMeter.Detect(), time, logger).RecoverAsync(open.ContainsKey, cancellationToken);
        var count = 0;
        foreach (var run in recovered)
        {
            if (run.Result is { } result && await store.FindRunAsync(run.RunId, cancellationToken) is { } stored)
            {
                await RecordAsync(store, stored, open[run.RunId], result, options, time, cancellationToken);
                count++;
            }
        }

        Log.Done(logger, count, open.Count, (long)time.GetElapsedTime(started).TotalMilliseconds);
        return count;
    }

    private static async Task RecordAsync(IGuardStore store, StoredRun stored, OpenRun open, RunResult found, ServerOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        var plan = stored.Plan is { } p ? JsonNode.Parse(p) : null;
        var result = found with
        {
            Language = plan?["language"]?.GetValue<string>(),
            Profile = plan?["profile"]?.GetValue<string>(),
            Backend = plan?["backend"]?.GetValue<string>() ?? BackendNames.Docker,
            Runtime = found.Runtime ?? plan?["runtime"]?.GetValue<string>(),
            // The same text a live run's caller gets: safe for a model or a terminal.
            Stdout = OutputSanitizer.Sanitize(found.StdoutBytes.Span, found.StdoutBytes.Length, options.MaxOutputTextBytes),
            Stderr = OutputSanitizer.Sanitize(found.StderrBytes.Span, found.StderrBytes.Length, options.MaxOutputTextBytes),
        };
        var now = time.GetUtcNow();

        // The CPU it used is charged as a live run's would be: an agent does not get free CPU from our crash.
        var charges = new List<UsageCharge>();
        if (result.Usage.CpuMs > 0)
        {
            charges.Add(new UsageCharge(stored.AgentId, CapLedger.Day(now), 0, result.Usage.CpuMs));
            if ((await store.FindCredentialAsync(stored.CredentialId, cancellationToken))?.Kind == CredentialKind.TaskToken)
            {
                charges.Add(new UsageCharge(stored.CredentialId, CapLedger.LifePeriod, 0, result.Usage.CpuMs));
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
            Agent = (await store.FindAgentAsync(stored.AgentId, cancellationToken))?.Name,
        };
        // The run's end, its charge and its record in one transaction, as a live run's end is: all of it or nothing.
        await store.CommitAsync(new RunTransition
        {
            Complete = new RunCompletion(stored.RunId, result.Status.ToWireName(), Reason: null, now, JsonSerializer.Serialize(view, ServerJsonContext.Default.RunView), now + options.ResultRetention),
            Charges = charges,
            Audit = [record],
        }, cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Recovery: Docker does not answer at start-up; the {Count} run(s) the service died under are recorded as interrupted")]
        public static partial void DockerDown(ILogger logger, int count);

        [LoggerMessage(2, LogLevel.Information, "Recovery: {Recovered} of {Open} run(s) the service died under got their real end from their containers, in {ElapsedMs} ms")]
        public static partial void Done(ILogger logger, int recovered, int open, long elapsedMs);
    }
}
