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
/// Runs and idempotency keys outlive the process (issue 11, point 2): a real <c>sandbox serve</c>, kill -9, and a
/// restart over the same data folder. A completed run is still found with its result, and a retried key returns the
/// original run (completed, or closed as interrupted) instead of running the code a second time.
/// </summary>
public sealed class RunPersistenceTests
{
    private const string AdminKey = "persist-test-admin-key-0123456789abcdef0123456789";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Get_CompletedRunAfterKillMinus9_ReturnsTheSameResult()
    {
        await using var fixture = await Fixture.CreateAsync();
        JsonObject before;
        using (var first = fixture.Start())
        {
            await first.WaitHealthyAsync(Token);
            using var posted = await fixture.PostAsync(new { language = "bash", code = "echo kept across restarts", purpose = "outlive the service" }, idempotencyKey: null);
            posted.StatusCode.ShouldBe(HttpStatusCode.OK, await posted.Content.ReadAsStringAsync(Token));
            before = (await posted.Content.ReadFromJsonAsync<JsonObject>(Token))!;
            first.Kill();
        }

        using var second = fixture.Start();
        await second.WaitHealthyAsync(Token);
        var runId = before["id"]!.GetValue<string>();
        using var get = await fixture.GetAsync($"/v1/runs/{runId}");
        var text = await get.Content.ReadAsStringAsync(Token);
        get.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        var after = JsonNode.Parse(text)!.AsObject();
        after["state"]!.GetValue<string>().ShouldBe("completed");
        after["result"]!["status"]!.GetValue<string>().ShouldBe("ok");
        after["result"]!["stdout"]!.GetValue<string>().ShouldBe("kept across restarts\n");
        after["result"]!.ToJsonString().ShouldBe(before["result"]!.ToJsonString(), "the same result, not a reconstruction");
        after["completedAt"]!.ToJsonString().ShouldBe(before["completedAt"]!.ToJsonString());
        second.Kill();
    }

    [Fact]
    public async Task Post_SameIdempotencyKeyAfterKillMinus9_ReturnsTheOriginalRunAndRunsNothing()
    {
        await using var fixture = await Fixture.CreateAsync();
        var body = new { language = "bash", code = "echo once", purpose = "run exactly once" };
        string runId;
        using (var first = fixture.Start())
        {
            await first.WaitHealthyAsync(Token);
            using var posted = await fixture.PostAsync(body, "key-completed");
            posted.StatusCode.ShouldBe(HttpStatusCode.OK, await posted.Content.ReadAsStringAsync(Token));
            runId = (await posted.Content.ReadFromJsonAsync<JsonObject>(Token))!["id"]!.GetValue<string>();
            first.Kill();
        }

        using var second = fixture.Start();
        await second.WaitHealthyAsync(Token);
        using var retried = await fixture.PostAsync(body, "key-completed");
        var text = await retried.Content.ReadAsStringAsync(Token);
        retried.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        retried.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        var view = JsonNode.Parse(text)!;
        view["id"]!.GetValue<string>().ShouldBe(runId);
        view["result"]!["stdout"]!.GetValue<string>().ShouldBe("once\n");
        (await fixture.AuditAsync("/admin/v1/audit?kind=receipt")).Count.ShouldBe(1, "one receipt in the whole log: the code ran once");

        using var other = await fixture.PostAsync(new { language = "bash", code = "echo twice", purpose = "another body" }, "key-completed");
        other.StatusCode.ShouldBe((HttpStatusCode)422, await other.Content.ReadAsStringAsync(Token));
        (await fixture.AuditAsync("/admin/v1/audit?kind=receipt")).Count.ShouldBe(1);
        second.Kill();
    }

    [Fact]
    public async Task Post_SameIdempotencyKeyAfterKillMinus9DuringTheRun_ReturnsTheInterruptedRunAndRunsNothing()
    {
        await using var fixture = await Fixture.CreateAsync();
        var body = new { language = "bash", code = "echo started; sleep 30", @async = true, purpose = "be killed with the service" };
        string runId;
        using (var first = fixture.Start())
        {
            await first.WaitHealthyAsync(Token);
            using var posted = await fixture.PostAsync(body, "key-interrupted");
            posted.StatusCode.ShouldBe(HttpStatusCode.Accepted, await posted.Content.ReadAsStringAsync(Token));
            runId = (await posted.Content.ReadFromJsonAsync<JsonObject>(Token))!["id"]!.GetValue<string>();
            fixture.RunIds.Add(runId);
            await fixture.WaitRunningAsync(runId);
            first.Kill();
        }

        // Its container gone too, so nothing tells its end and it is reconciled as interrupted (recovery is in Faults/).
        await DockerProbe.RemoveContainersOfRunAsync(runId);

        using var second = fixture.Start();
        await second.WaitHealthyAsync(Token);
        using var retried = await fixture.PostAsync(body, "key-interrupted");
        var text = await retried.Content.ReadAsStringAsync(Token);
        retried.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        retried.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        var view = JsonNode.Parse(text)!;
        view["id"]!.GetValue<string>().ShouldBe(runId);
        view["state"]!.GetValue<string>().ShouldBe("completed");
        view["result"]!["message"]!.GetValue<string>().ShouldStartWith("interrupted: ");
        (await fixture.AuditAsync("/admin/v1/audit?kind=receipt")).Count.ShouldBe(1, "the retry started nothing");
        var results = await fixture.AuditAsync($"/admin/v1/audit?run={runId}&kind=result");
        results.Single()!["status"]!.GetValue<string>().ShouldBe("interrupted");
        second.Kill();
    }

    /// <summary>A data folder with one agent, the port and client, and clean-up of the folder and any container left.</summary>
    private sealed class Fixture : IAsyncDisposable
    {
        private readonly string _data;
        private readonly string _key;
        private readonly int _port = ServeProcess.FreePort();

        private Fixture(string data, string key)
        {
            _data = data;
            _key = key;
            Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_port}") };
        }

        public HttpClient Http { get; }

        public List<string> RunIds { get; } = [];

        public static async Task<Fixture> CreateAsync()
        {
            var data = Path.Join(Path.GetTempPath(), "sandbox-persist-tests-" + Guid.NewGuid().ToString("N"));
            await using var store = await SqliteGuardStore.OpenAsync(GuardPaths.Database(data), TimeProvider.System, Token);
            var created = await new AgentAdmin(store, TimeProvider.System).CreateAsync(new AgentSpec { Name = "persist", Profiles = ["bash"] }, "test", Token);
            return new Fixture(data, created.Value.ShouldNotBeNull(created.Message).Key);
        }

        public ServeProcess Start() => ServeProcess.Start(_data, AdminKey, _port);

        public async Task<HttpResponseMessage> PostAsync(object body, string? idempotencyKey)
        {
            using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/runs") { Content = JsonContent.Create(body) };
            post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
            if (idempotencyKey is not null)
            {
                post.Headers.Add("Idempotency-Key", idempotencyKey);
            }

            return await Http.SendAsync(post, Token);
        }

        public async Task<HttpResponseMessage> GetAsync(string path)
        {
            using var get = new HttpRequestMessage(HttpMethod.Get, path);
            get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
            return await Http.SendAsync(get, Token);
        }

        public Task WaitRunningAsync(string runId) => Http.WaitForRunStateAsync(_key, runId, "running");

        public async Task<JsonArray> AuditAsync(string path) => (JsonArray)await Http.AdminGetAsync(AdminKey, path);

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            foreach (var runId in RunIds)
            {
                await DockerProbe.RemoveContainersOfRunAsync(runId);
            }

            if (Directory.Exists(_data))
            {
                Directory.Delete(_data, recursive: true);
            }
        }
    }
}
