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
}
