using System.Diagnostics;
using System.Net;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Faults;

/// <summary>
/// Fault 9 of issue 11: outages counted against agents. <c>sandbox_error</c> runs and <c>queue_full</c> refusals fed the
/// failure-streak detector, so with <c>HoldAgent</c> on an outage would have put every agent on hold. Here the service's
/// own Docker endpoint is a dead socket (the shared daemon is untouched): a burst of runs ends <c>sandbox_error</c> and
/// a second burst is refused <c>queue_full</c>, and the agent is neither held nor charged. The control: after a restart
/// with Docker back, a streak of the agent's own failing code still puts it on hold.
/// </summary>
[Collection(FaultInjectionCollection.Name)]
[Trait("Category", "Integration")]
public sealed class OutageNotTheAgentsFaultTests
{
    private const int Threshold = 3;

    private static readonly Dictionary<string, string> s_detectors = new()
    {
        ["Sandbox__Guard__Alerts__HoldAgent"] = "true",
        ["Sandbox__Guard__Alerts__FailureStreakThreshold"] = "3",
        ["Sandbox__MaxConcurrentRuns"] = "1",
        ["Sandbox__MaxQueueLength"] = "0",
    };

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SandboxErrorsAndQueueFull_DoNotHoldOrChargeTheAgent_ButItsOwnFailuresStillDo()
    {
        var dead = Directory.CreateTempSubdirectory("sandbox-dead-docker-");
        await using var service = FaultService.Create("outage");
        var key = await service.CreateAgentAsync("outage");
        var holder = await service.CreateAgentAsync("outage-holder", ["python-wasm"], maxConcurrentRuns: 2, dailyCpuSeconds: 60);
        try
        {
            var outage = new Dictionary<string, string>(s_detectors) { ["DOCKER_HOST"] = "unix://" + Path.Join(dead.FullName, "docker.sock") };
            await service.StartAsync(outage);

            // Twice the streak threshold of runs our outage failed.
            var burst = Stopwatch.StartNew();
            var statuses = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < 2 * Threshold; i++)
            {
                var (status, view, response) = await service.PostRunAsync(key, new { language = "bash", code = "echo never", purpose = "Docker is away" });
                response.Dispose();
                status.ShouldBe(HttpStatusCode.OK, view.ToJsonString());
                ((string?)view["result"]!["status"]).ShouldBe("sandbox_error", view.ToJsonString());
                Tally(statuses, "200 sandbox_error");
            }

            var burstTime = burst.Elapsed;

            // Then the only slot is busy (a WebAssembly run of another agent) and the queue takes none: queue_full, again and again.
            var (heldStatus, held, heldResponse) = await service.PostRunAsync(holder, new { language = "python", profile = "python-wasm", code = "import time\ntime.sleep(3)", @async = true, purpose = "hold the only slot" });
            heldResponse.Dispose();
            heldStatus.ShouldBe(HttpStatusCode.Accepted, held.ToJsonString());
            await service.Http.WaitForRunStateAsync(holder, held["id"]!.GetValue<string>(), "running");
            for (var i = 0; i < 2 * Threshold; i++)
            {
                var (status, problem, response) = await service.PostRunAsync(key, new { language = "bash", code = "echo never", purpose = "the queue is full" });
                response.Dispose();
                status.ShouldBe(HttpStatusCode.TooManyRequests, problem.ToJsonString());
                ((string?)problem["code"]).ShouldBe("queue_full", problem.ToJsonString());
                Tally(statuses, "429 queue_full");
            }

            (await AgentStateAsync(service, "outage")).ShouldBe("active", "our outage did not put the agent on hold");
            (await service.AuditAsync("?kind=alert&agent=outage")).ShouldBeEmpty("no detector fired for the agent");
            (await service.BudgetUsedAsync(key, "daily_cpu_seconds")).ShouldBe(0, "runs our outage failed are charged nothing");
            await service.Http.WaitForRunStateAsync(holder, held["id"]!.GetValue<string>(), "completed");

            // Docker back (a restart with the real socket); the detectors keep their thresholds and HoldAgent.
            service.Serve!.Kill();
            await service.StartAsync(s_detectors);
            await service.AssertFollowUpAdmittedAsync(key, "outage");
            for (var i = 0; i < Threshold; i++)
            {
                var (status, view, response) = await service.PostRunAsync(key, new { language = "bash", code = "exit 1", purpose = "the agent's own failure" });
                response.Dispose();
                status.ShouldBe(HttpStatusCode.OK, view.ToJsonString());
                ((string?)view["result"]!["status"]).ShouldBe("runtime_error", view.ToJsonString());
            }

            (await AgentStateAsync(service, "outage")).ShouldBe("under_approval", "a streak of the agent's own failures still holds it");
            var alerts = await service.AuditAsync("?kind=alert&agent=outage");
            alerts.Select(a => (string?)a!["data"]!["detector"] ?? (string?)a["status"]).ShouldContain("failure_streak", alerts.ToJsonString());
            FaultService.Report(FaultService.Invariant(
                $"fault 9: {string.Join(", ", statuses.Select(s => s.Key + " x" + s.Value))}; the sandbox_error burst took {burstTime.TotalMilliseconds:0} ms; agent active and charged 0 CPU after both; {Threshold} runtime errors of its own put it under approval; RSS {service.RssMiB():0} MiB"));

            await service.AssertNoContainerLeftAsync(TimeSpan.FromSeconds(5));
            service.Serve!.Kill();
            await service.AssertAuditIntactAsync();
        }
        finally
        {
            dead.Delete(recursive: true);
        }
    }

    private static void Tally(Dictionary<string, int> statuses, string name) => statuses[name] = statuses.GetValueOrDefault(name) + 1;

    private static async Task<string?> AgentStateAsync(FaultService service, string name) =>
        (string?)(await service.Http.AdminGetAsync(FaultService.AdminKey, "/admin/v1/agents/" + name))["agent"]!["state"];
}
