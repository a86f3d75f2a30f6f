using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Store;
using Sandbox.Server.IntegrationTests.Mcp;
using Sandbox.Server.IntegrationTests.Support;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Hosting;

/// <summary>
/// kill -9 under a running job, then a restart over the same data folder: the run that had its receipt but
/// no result is closed at start-up with one <c>interrupted</c> record, and the chain stays intact. This is the
/// real <c>sandbox serve</c> process, because only a real process can be killed without running any of its code.
/// </summary>
public sealed class CrashRecoveryTests
{
    private const string AdminKey = "crash-test-admin-key-0123456789abcdef0123456789";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KillMinus9DuringARun_RestartReconcilesItIntoExactlyOneInterruptedRecord()
    {
        var data = Path.Join(Path.GetTempPath(), "sandbox-crash-tests-" + Guid.NewGuid().ToString("N"));
        IssuedKey agent;
        await using (var store = await SqliteGuardStore.OpenAsync(GuardPaths.Database(data), TimeProvider.System, Token))
        {
            var created = await new AgentAdmin(store, TimeProvider.System).CreateAsync(new AgentSpec { Name = "crash", Profiles = ["bash"] }, "test", Token);
            agent = created.Value.ShouldNotBeNull(created.Message);
        }

        var port = ServeProcess.FreePort();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        string runId;
        using (var first = ServeProcess.Start(data, AdminKey, port))
        {
            await first.WaitHealthyAsync(Token);
            using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/runs")
            {
                Content = JsonContent.Create(new { language = "bash", code = "echo started; sleep 30", @async = true, purpose = "be killed with the service" }),
            };
            post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", agent.Key);
            using var accepted = await http.SendAsync(post, Token);
            accepted.StatusCode.ShouldBe(HttpStatusCode.Accepted, await accepted.Content.ReadAsStringAsync(Token));
            runId = (await accepted.Content.ReadFromJsonAsync<JsonObject>(Token))!["id"]!.GetValue<string>();
            await http.WaitForRunStateAsync(agent.Key, runId, "running");

            // SIGKILL: no shutdown hook, no drain, no final record. Exactly what the reconciliation is for.
            first.Kill();
        }

        // With its container gone too, nothing tells the run's end: start-up recovery (Faults/) has nothing to find, and
        // reconciliation records it interrupted.
        await DockerProbe.RemoveContainersOfRunAsync(runId);

        using (var second = ServeProcess.Start(data, AdminKey, port))
        {
            await second.WaitHealthyAsync(Token);
            var records = (JsonArray)await http.AdminGetAsync(AdminKey, $"/admin/v1/audit?run={runId}");
            var kinds = records.Select(r => r!["kind"]!.GetValue<string>()).ToList();
            kinds.ShouldBe(["request", "decision", "receipt", "result"], "the run's record: request, decision and receipt before the crash, one result after");
            var result = records[^1]!;
            result["status"]!.GetValue<string>().ShouldBe("interrupted");
            result["data"]!["lastStage"]!.GetValue<string>().ShouldBe("receipt");

            var verify = (JsonObject)await http.AdminGetAsync(AdminKey, "/admin/v1/audit/verify");
            verify["intact"]!.GetValue<bool>().ShouldBeTrue(verify.ToJsonString());
            second.Kill();
        }

        // A third start finds nothing left to reconcile: exactly one final record, not one per restart.
        using (var third = ServeProcess.Start(data, AdminKey, port))
        {
            await third.WaitHealthyAsync(Token);
            var results = (JsonArray)await http.AdminGetAsync(AdminKey, $"/admin/v1/audit?run={runId}&kind=result");
            results.Count.ShouldBe(1);
            third.Kill();
        }

        await DockerProbe.RemoveContainersOfRunAsync(runId);
        Directory.Delete(data, recursive: true);
    }
}
