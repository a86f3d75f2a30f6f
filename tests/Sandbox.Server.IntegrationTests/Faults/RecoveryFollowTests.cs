using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Sandbox.Server.IntegrationTests.Support;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Faults;

/// <summary>
/// Issue 11, what the last stop left: recovery follows a still-running run in the background (the service listens at
/// once instead of after the run's remaining wall time), and output is persisted as it streams, so the recovered end
/// keeps what the program printed before a crash of the service, or of dockerd and then the service.
/// </summary>
[Collection(FaultInjectionCollection.Name)]
[Trait("Category", "Integration")]
public sealed class RecoveryFollowTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KillMinus9OfTheService_LongRun_ListensAtOnceThenRecordsItsRealEndWithTheOutputPrintedBefore()
    {
        await using var service = FaultService.Create("follow");
        var profiles = LongBashProfiles(service.Data);
        var key = await service.CreateAgentAsync("follow");
        await service.StartAsync(profiles: profiles);
        var (status, accepted, response) = await service.PostRunAsync(key, new
        {
            language = "bash",
            code = "echo line-before-crash; sleep 14; echo after-restart",
            @async = true,
            purpose = "outlive the service by a long way",
        });
        response.Dispose();
        status.ShouldBe(HttpStatusCode.Accepted, accepted.ToJsonString());
        var runId = (string)accepted["id"]!;
        await service.Http.WaitForRunStateAsync(key, runId, "running");
        // Past a flush of its output (every 250 ms), so the line is in the store when the service dies.
        await Task.Delay(1200, Token);
        service.Serve!.Kill();

        var restart = Stopwatch.StartNew();
        await service.StartAsync(profiles: profiles);
        var listenedMs = restart.ElapsedMilliseconds;
        var readyMs = await WaitReadyAsync(service, restart);
        var (_, meanwhile) = await service.GetRunAsync(key, runId);
        var stateThen = (string?)meanwhile!["state"];
        var slotsThen = await service.BudgetUsedAsync(key, "concurrent_runs");
        FaultService.Report($"follow: listening {listenedMs} ms and ready {readyMs} ms after the restart, the run then '{stateThen}' with about 13 s left; agent slots in use then {slotsThen}");
        stateThen.ShouldBe("running", "the service listens while the run it recovers still runs: it is followed in the background");
        slotsThen.ShouldBe(1, "the followed run keeps its agent's slot");

        var view = await WaitCompletedAsync(service, key, runId, TimeSpan.FromSeconds(40));
        var recordedMs = restart.ElapsedMilliseconds;
        var result = view["result"]!;
        FaultService.Report($"follow: recorded {recordedMs} ms after the restart: {result.ToJsonString()}");
        ((string?)result["status"]).ShouldBe("ok", result.ToJsonString());
        result["exitCode"]!.GetValue<int>().ShouldBe(0);
        ((string?)result["stdout"]).ShouldBe("line-before-crash\nafter-restart\n", "the line printed before the crash was persisted as it streamed");
        ((string?)result["message"]).ShouldNotBeNull().ShouldContain("persisted");

        var results = await service.AuditAsync($"?run={runId}&kind=result");
        results.ShouldHaveSingleItem()!["data"]!["recovered"]!.GetValue<bool>().ShouldBeTrue();
        await service.AssertNoContainerLeftAsync(TimeSpan.FromSeconds(5));
        await service.AssertFollowUpAdmittedAsync(key, "follow");
        await service.AssertAuditIntactAsync();
    }

    [Fact]
    public async Task KillMinus9OfDockerdThenOfTheService_RecoveredEndKeepsTheOutputPrintedBefore()
    {
        await using var service = FaultService.Create("dockerd-output");
        var key = await service.CreateAgentAsync("dockerd-output");
        await service.StartAsync();
        var (status, accepted, response) = await service.PostRunAsync(key, new
        {
            language = "bash",
            code = "echo printed-before; sleep 4; exit 0",
            @async = true,
            purpose = "outlive the daemon and the service",
        });
        response.Dispose();
        status.ShouldBe(HttpStatusCode.Accepted, accepted.ToJsonString());
        var runId = (string)accepted["id"]!;
        await service.Http.WaitForRunStateAsync(key, runId, "running");
        await Task.Delay(1200, Token);
        try
        {
            // The daemon first (nobody passes output on now), then the service, whose memory held the rest: only the
            // store has the line. The program ends on its own meanwhile, under the shim.
            await DockerDaemon.KillAsync();
            await Task.Delay(300, Token);
            service.Serve!.Kill();
            await Task.Delay(4500, Token);
        }
        finally
        {
            await DockerDaemon.RestoreAsync();
        }

        var restart = Stopwatch.StartNew();
        await service.StartAsync();
        var view = await WaitCompletedAsync(service, key, runId, TimeSpan.FromSeconds(20));
        var result = view["result"]!;
        FaultService.Report($"dockerd then service kill -9: recorded {restart.ElapsedMilliseconds} ms after the restart: {result.ToJsonString()}");
        ((string?)result["status"]).ShouldBe("ok", result.ToJsonString());
        result["exitCode"]!.GetValue<int>().ShouldBe(0);
        ((string?)result["stdout"]).ShouldBe("printed-before\n", "what was printed before the daemon died survives both crashes");
        ((string?)result["message"]).ShouldNotBeNull().ShouldContain("persisted");

        (await service.AuditAsync($"?run={runId}&kind=result")).ShouldHaveSingleItem();
        await service.AssertNoContainerLeftAsync(TimeSpan.FromSeconds(5));
        await service.AssertFollowUpAdmittedAsync(key, "dockerd-output");
        await service.AssertAuditIntactAsync();
    }

    /// <summary>The bash profile with a 60 s wall limit, so a run can outlive a restart by much more than a start-up takes.</summary>
    private static string LongBashProfiles(string data)
    {
        var folder = Path.Join(data, "profiles", "bash");
        Directory.CreateDirectory(folder);
        var json = JsonNode.Parse(File.ReadAllText(Path.Join(RepositoryRoot.Path, "images", "bash", "profile.json")))!;
        json["profiles"]!["bash"]!["limits"]!["wallTimeMs"] = 60_000;
        File.WriteAllText(Path.Join(folder, "profile.json"), json.ToJsonString());
        return Path.GetDirectoryName(folder)!;
    }

    private static async Task<long> WaitReadyAsync(FaultService service, Stopwatch since)
    {
        while (since.Elapsed < TimeSpan.FromSeconds(30))
        {
            using var ready = await service.Http.GetAsync("/readyz", Token);
            if (ready.StatusCode == HttpStatusCode.OK)
            {
                return since.ElapsedMilliseconds;
            }

            await Task.Delay(50, Token);
        }

        throw new ShouldAssertException("/readyz did not answer ready within 30 s of the restart");
    }

    private static async Task<JsonObject> WaitCompletedAsync(FaultService service, string key, string runId, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var (_, view) = await service.GetRunAsync(key, runId);
            if ((string?)view?["state"] == "completed")
            {
                return view!;
            }

            clock.Elapsed.ShouldBeLessThan(within, $"run {runId} did not complete: {view?.ToJsonString()}");
            await Task.Delay(100, Token);
        }
    }
}
