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

    /// <summary>
    /// The event stream of a run that ended before a restart: the new process holds nothing of it in memory, and streams it
    /// from the store (its stored view), numbered as the first process numbered it; it answered 404 before.
    /// </summary>
    [Fact]
    public async Task Restart_EventsOfARunThatEndedBefore_AreStreamedFromTheStore_WithTheSameIds()
    {
        var data = Path.Join(Path.GetTempPath(), "sandbox-crash-tests-" + Guid.NewGuid().ToString("N"));
        IssuedKey agent;
        await using (var store = await SqliteGuardStore.OpenAsync(GuardPaths.Database(data), TimeProvider.System, Token))
        {
            var created = await new AgentAdmin(store, TimeProvider.System).CreateAsync(new AgentSpec { Name = "restarted", Profiles = ["python-wasm"] }, "test", Token);
            agent = created.Value.ShouldNotBeNull(created.Message);
        }

        var port = ServeProcess.FreePort();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        string runId;
        string before;
        using (var first = ServeProcess.Start(data, AdminKey, port))
        {
            await first.WaitHealthyAsync(Token);
            using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/runs") { Content = JsonContent.Create(new { language = "python", backend = "wasm", code = "print('one')\nprint('two')\n" }) };
            post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", agent.Key);
            using var done = await http.SendAsync(post, Token);
            done.StatusCode.ShouldBe(HttpStatusCode.OK, await done.Content.ReadAsStringAsync(Token));
            runId = (await done.Content.ReadFromJsonAsync<JsonObject>(Token))!["id"]!.GetValue<string>();
            before = await EventsAsync(http, agent.Key, runId);
            first.Kill();
        }

        try
        {
            using var second = ServeProcess.Start(data, AdminKey, port);
            await second.WaitHealthyAsync(Token);
            var after = await EventsAsync(http, agent.Key, runId);
            after.ShouldContain("event: stdout\ndata: {\"text\":\"one\\ntwo\\n\"}");
            after.ShouldContain("event: result");
            ResultId(after).ShouldBe(ResultId(before), "the result is at the same position as the first process put it");
            second.Kill();
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }

        static string ResultId(string stream) => stream.Split("\n\n").Single(f => f.Contains("event: result", StringComparison.Ordinal)).Split('\n')[0];
    }

    private static async Task<string> EventsAsync(HttpClient http, string key, string runId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{runId}/events");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.SendAsync(request, Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync(Token);
    }
}
