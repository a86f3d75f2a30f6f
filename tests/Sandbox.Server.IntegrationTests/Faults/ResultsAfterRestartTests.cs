using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Sandbox.Server.IntegrationTests.Faults;

/// <summary>
/// Fault 2 of issue 11: after a restart, <c>GET /v1/runs/{id}</c> answered 404 for runs the audit log knew, because
/// results lived in memory only. kill -9 of a real <c>sandbox serve</c> after a few completed runs (ok, a runtime error,
/// a timeout), then a restart: each is found with the very result its caller was given.
/// </summary>
[Collection(FaultInjectionCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ResultsAfterRestartTests
{
    [Fact]
    public async Task Get_CompletedRunsAfterKillMinus9_ReturnTheSameResults()
    {
        await using var service = FaultService.Create("results");
        var key = await service.CreateAgentAsync("results");
        var bodies = new object[]
        {
            new { language = "bash", code = "echo kept across restarts", purpose = "outlive the service" },
            new { language = "bash", code = "echo failing >&2; exit 3", purpose = "a runtime error outlives it too" },
            new { language = "bash", code = "sleep 5", limits = new { wallTimeMs = 300 }, purpose = "and a timeout" },
        };
        var before = new List<System.Text.Json.Nodes.JsonObject>();
        await service.StartAsync();
        foreach (var body in bodies)
        {
            var (status, view, response) = await service.PostRunAsync(key, body);
            response.Dispose();
            status.ShouldBe(HttpStatusCode.OK, view.ToJsonString());
            before.Add(view);
        }

        before.Select(v => (string?)v["result"]!["status"]).ShouldBe(["ok", "runtime_error", "timeout"]);
        service.Serve!.Kill();

        await service.StartAsync();
        foreach (var original in before)
        {
            var runId = original["id"]!.GetValue<string>();
            var (status, after) = await service.GetRunAsync(key, runId);
            status.ShouldBe(HttpStatusCode.OK, after?.ToJsonString());
            after!["state"]!.GetValue<string>().ShouldBe("completed");
            after["result"]!.ToJsonString().ShouldBe(original["result"]!.ToJsonString(), "the same result, not a reconstruction");
            after["completedAt"]!.ToJsonString().ShouldBe(original["completedAt"]!.ToJsonString());
            var recorded = await service.AuditAsync($"?run={runId}&kind=result");
            recorded.Single()!["status"]!.GetValue<string>().ShouldBe(after["result"]!["status"]!.GetValue<string>(), "the audit log and the answer agree");
        }

        await service.AssertFollowUpAdmittedAsync(key, "results");
        await service.AssertNoContainerLeftAsync(TimeSpan.FromSeconds(5));
        service.Serve!.Kill();
        await service.AssertAuditIntactAsync();
    }

    /// <summary>
    /// kill -9 between a run's recorded end and its container's removal left the container to the reaper, which for a
    /// claimed warm-pool container waits for the pool's deadline (ten minutes and more). The kill's window is a few
    /// milliseconds wide, so the leftovers are made here as the kill leaves them: a cold run's container (run-id label)
    /// and a claimed pool container (run in its name), both exited, both with a deadline an hour away, for runs the
    /// store has completed; and one of a run the store does not know, which belongs to someone else and must stay.
    /// </summary>
    [Fact]
    public async Task Restart_ContainersOfCompletedRunsLeftBehind_AreRemoved_AnotherStoresAreNot()
    {
        await using var service = FaultService.Create("leftovers");
        var key = await service.CreateAgentAsync("leftovers", maxConcurrentRuns: 2);
        await service.StartAsync();
        var runIds = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var (status, view, response) = await service.PostRunAsync(key, new { language = "bash", code = $"echo {i}", purpose = "a completed run" });
            response.Dispose();
            status.ShouldBe(HttpStatusCode.OK, view.ToJsonString());
            runIds.Add(view["id"]!.GetValue<string>());
        }

        service.Serve!.Kill();
        var deadline = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        string[] common = ["--label", "io.sandbox.managed=true", "--label", "io.sandbox.deadline=" + deadline, "--label", "io.sandbox.kill-at=" + deadline, "--network", "none"];
        var cold = await LeftoverAsync([.. common, "--label", "io.sandbox.run-id=" + runIds[0], "--label", "io.sandbox.step=run"]);
        var claimed = await LeftoverAsync([.. common, "--label", "io.sandbox.pool=leftover-test", "--name", $"sandbox-{runIds[1]}-run-claimed-{now}"]);
        var stranger = await LeftoverAsync([.. common, "--label", "io.sandbox.run-id=run_not_in_this_store_" + Guid.NewGuid().ToString("N")[..8], "--label", "io.sandbox.step=run"]);
        try
        {
            await service.StartAsync();
            var clock = Stopwatch.StartNew();
            while ((await ExistsAsync(cold) || await ExistsAsync(claimed)) && clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }

            FaultService.Report($"leftovers: the completed runs' containers were removed {clock.ElapsedMilliseconds} ms after the restart's start returned");
            (await ExistsAsync(cold)).ShouldBeFalse("a completed run's container is removed at start-up, not at its deadline an hour away");
            (await ExistsAsync(claimed)).ShouldBeFalse("a completed run's claimed pool container too, not at the pool's deadline");
            (await ExistsAsync(stranger)).ShouldBeTrue("a run this store does not know is someone else's: left alone");
            foreach (var runId in runIds)
            {
                var (status, after) = await service.GetRunAsync(key, runId);
                status.ShouldBe(HttpStatusCode.OK);
                after!["result"]!["status"]!.GetValue<string>().ShouldBe("ok", "removing its leftovers leaves its record as it was");
            }
        }
        finally
        {
            await FaultService.DockerAsync("rm", "-f", cold, claimed, stranger);
        }
    }

    /// <summary>A container made and run to its exit, as the kill leaves a finished run's; its id.</summary>
    private static async Task<string> LeftoverAsync(string[] options)
    {
        var id = (await FaultService.DockerAsync(["create", .. options, "sandbox/bash:latest", "true"])).Trim();
        await FaultService.DockerAsync("start", "-a", id);
        return id;
    }

    private static async Task<bool> ExistsAsync(string id) =>
        (await FaultService.DockerAsync("ps", "-aq", "--no-trunc", "--filter", "id=" + id)).Trim().Length > 0;
}
