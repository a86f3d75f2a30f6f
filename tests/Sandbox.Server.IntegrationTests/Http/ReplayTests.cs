using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Store;
using Sandbox.Server.IntegrationTests.Support;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Http;

/// <summary>
/// <c>POST /admin/v1/runs/{id}/replay</c> (issue 11, point 8) on a real <c>sandbox serve</c> and a real dockerd: a run
/// printing <c>random.random()</c> replays with its stdout difference reported, a deterministic one replays identical,
/// pinned to the image digest its receipt names, audited as a new run naming the original, with the chain intact.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ReplayTests
{
    private const string AdminKey = "replay-test-admin-key-0123456789abcdef0123456789";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Replay_RandomOutput_ReportsTheStdoutDifference()
    {
        await using var fixture = await Fixture.CreateAsync();
        var runId = await fixture.RunAsync(new { language = "python", code = "import random\nprint('same line')\nprint(random.random())\n", purpose = "replay a random run" });

        var (status, replay) = await fixture.ReplayAsync(runId, AdminKey);

        status.ShouldBe(HttpStatusCode.OK, replay.ToJsonString());
        ((bool)replay["identical"]!).ShouldBeFalse();
        var differences = replay["differences"]!.AsArray();
        differences.Select(d => (string)d!["field"]!).ShouldBe(["stdout"]);
        var diff = differences[0]!["diff"]!.AsArray().Select(l => (string)l!).ToList();
        diff[0].ShouldBe("@@ line 2 @@", "the common first line is skipped");
        diff.Count(l => l.StartsWith("-0.", StringComparison.Ordinal)).ShouldBe(1, string.Join("\n", diff));
        diff.Count(l => l.StartsWith("+0.", StringComparison.Ordinal)).ShouldBe(1, string.Join("\n", diff));
        ((string)replay["originalRun"]!["result"]!["stdout"]!).ShouldNotBe((string)replay["replayRun"]!["result"]!["stdout"]!);
    }

    [Fact]
    public async Task Replay_DeterministicRun_IsIdenticalPinnedToTheDigestAndAuditedNamingTheOriginal()
    {
        await using var fixture = await Fixture.CreateAsync();
        var runId = await fixture.RunAsync(new
        {
            language = "python",
            code = "import sys\nprint(sum(range(10)), sys.stdin.read().strip())\nprint(open('data/in.txt').read(), file=sys.stderr)\nsys.exit(3)\n",
            stdin = "from stdin",
            files = new[] { new { path = "data/in.txt", content = "from a file" } },
            limits = new { wallTimeMs = 9000 },
            purpose = "replay a deterministic run",
        });
        var receipts = await fixture.AuditAsync($"/admin/v1/audit?run={runId}&kind=receipt");
        var digest = (string?)receipts.Single()!["data"]!["imageDigest"];
        digest.ShouldNotBeNull().ShouldStartWith("sha256:");

        var clock = Stopwatch.StartNew();
        var (status, replay) = await fixture.ReplayAsync(runId, AdminKey);
        var elapsed = clock.Elapsed;

        status.ShouldBe(HttpStatusCode.OK, replay.ToJsonString());
        ((bool)replay["identical"]!).ShouldBeTrue(replay.ToJsonString());
        replay["differences"]!.AsArray().ShouldBeEmpty();
        ((string)replay["artifactDigest"]!).ShouldBe(digest);
        var result = replay["replayRun"]!["result"]!;
        ((string)result["stdout"]!).ShouldBe("45 from stdin\n");
        ((string)result["stderr"]!).ShouldBe("from a file\n");
        ((int)result["exitCode"]!).ShouldBe(3);
        ((long)result["limits"]!["wallTimeMs"]!).ShouldBe(9000, "the receipted limits, not the profile's defaults");
        TestContext.Current.TestOutputHelper?.WriteLine($"replay round trip: {elapsed.TotalMilliseconds:F0} ms");

        var replayId = (string)replay["replay"]!;
        var records = await fixture.AuditAsync($"/admin/v1/audit?run={replayId}");
        records.Select(r => $"{r!["kind"]} {r["status"]}").ShouldBe(["receipt planned", "result runtime_error"]);
        ((string?)records[0]!["data"]!["replayOf"]).ShouldBe(runId);
        ((string?)records[0]!["data"]!["imageDigest"]).ShouldBe(digest);
        ((string?)records[0]!["data"]!["replayedBy"]).ShouldBe("admin:api");
        ((string?)records[1]!["data"]!["replayOf"]).ShouldBe(runId);
        ((bool)(await fixture.Http.AdminGetAsync(AdminKey, "/admin/v1/audit/verify"))["intact"]!).ShouldBeTrue();

        // The operator's act: the agent's daily run count is what its own run made it.
        var me = await fixture.MeAsync();
        var runs = me["budgets"]!.AsArray().Single(b => (string)b!["name"]! == "daily_runs")!;
        ((double)runs["used"]!).ShouldBe(1);
    }

    [Fact]
    public async Task Replay_UnknownRun_Is404NamingIt()
    {
        await using var fixture = await Fixture.CreateAsync();
        await fixture.StartAsync();

        var (status, problem) = await fixture.ReplayAsync("run_0000000000000000000000000000dead", AdminKey);

        status.ShouldBe(HttpStatusCode.NotFound);
        ((string)problem["code"]!).ShouldBe("run_not_found");
        ((string)problem["detail"]!).ShouldContain("run_0000000000000000000000000000dead");
    }

    [Fact]
    public async Task Replay_WithAnAgentKey_IsRefusedAndRunsNothing()
    {
        await using var fixture = await Fixture.CreateAsync();
        var runId = await fixture.RunAsync(new { language = "python", code = "print(1)", purpose = "not for agents to replay" });

        var (status, problem) = await fixture.ReplayAsync(runId, fixture.Key);

        status.ShouldBe(HttpStatusCode.Unauthorized, problem.ToJsonString());
        ((string)problem["code"]!).ShouldBe("admin_key_required");
        (await fixture.AuditAsync("/admin/v1/audit?kind=receipt")).Count.ShouldBe(1, "only the original ran");
    }

    private sealed class Fixture : IAsyncDisposable
    {
        private readonly string _data;
        private ServeProcess? _serve;

        private Fixture(string data, string key)
        {
            _data = data;
            Key = key;
        }

        public string Key { get; }

        public HttpClient Http => _serve!.Http;

        private List<string> RunIds { get; } = [];

        public static async Task<Fixture> CreateAsync()
        {
            var data = Path.Join(Path.GetTempPath(), "sandbox-replay-tests-" + Guid.NewGuid().ToString("N"));
            await using var store = await SqliteGuardStore.OpenAsync(GuardPaths.Database(data), TimeProvider.System, Token);
            var created = await new AgentAdmin(store, TimeProvider.System).CreateAsync(new AgentSpec { Name = "replayer", Profiles = ["python"] }, "test", Token);
            return new Fixture(data, created.Value.ShouldNotBeNull(created.Message).Key);
        }

        public async Task StartAsync()
        {
            _serve ??= ServeProcess.Start(_data, AdminKey);
            await _serve.WaitHealthyAsync(Token);
        }

        /// <summary>Runs the body as the agent and returns the completed run's id.</summary>
        public async Task<string> RunAsync(object body)
        {
            await StartAsync();
            using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/runs") { Content = JsonContent.Create(body) };
            post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
            using var response = await Http.SendAsync(post, Token);
            var text = await response.Content.ReadAsStringAsync(Token);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
            var id = (string)JsonNode.Parse(text)!["id"]!;
            RunIds.Add(id);
            return id;
        }

        public async Task<(HttpStatusCode Status, JsonNode Body)> ReplayAsync(string runId, string key)
        {
            using var post = new HttpRequestMessage(HttpMethod.Post, $"/admin/v1/runs/{runId}/replay");
            post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await Http.SendAsync(post, Token);
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!;
            if (body["replay"] is { } replay)
            {
                RunIds.Add((string)replay!);
            }

            return (response.StatusCode, body);
        }

        public async Task<JsonNode> MeAsync()
        {
            using var get = new HttpRequestMessage(HttpMethod.Get, "/v1/me");
            get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
            using var response = await Http.SendAsync(get, Token);
            var text = await response.Content.ReadAsStringAsync(Token);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
            return JsonNode.Parse(text)!;
        }

        public async Task<JsonArray> AuditAsync(string path) => (JsonArray)await Http.AdminGetAsync(AdminKey, path);

        public async ValueTask DisposeAsync()
        {
            _serve?.Dispose();
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
