using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
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
        records.Select(r => $"{r!["kind"]} {r["status"]}").ShouldBe(["request received", "decision allowed", "receipt planned", "result runtime_error"]);
        ((string?)records[0]!["data"]!["replayOf"]).ShouldBe(runId);
        ((string?)records[1]!["data"]!["code"]).ShouldBe("replay");
        ((string?)records[2]!["data"]!["replayOf"]).ShouldBe(runId);
        ((string?)records[2]!["data"]!["imageDigest"]).ShouldBe(digest);
        ((string?)records[2]!["data"]!["replayedBy"]).ShouldBe("admin:api");
        ((string?)records[3]!["data"]!["replayOf"]).ShouldBe(runId);
        ((bool)(await fixture.Http.AdminGetAsync(AdminKey, "/admin/v1/audit/verify"))["intact"]!).ShouldBeTrue();

        // The operator's act: the agent's daily run count is what its own run made it.
        var me = await fixture.MeAsync();
        var runs = me["budgets"]!.AsArray().Single(b => (string)b!["name"]! == "daily_runs")!;
        ((double)runs["used"]!).ShouldBe(1);
    }

    [Fact]
    public async Task Replay_WasmRun_ReceiptNamesTheModulesSha256_AndTheReplayIsIdentical()
    {
        await using var fixture = await Fixture.CreateAsync();
        var runId = await fixture.RunAsync(new { language = "python", profile = "python-wasm", code = "print(6 * 7)", purpose = "replay on WebAssembly" });
        var receipt = (await fixture.AuditAsync($"/admin/v1/audit?run={runId}&kind=receipt")).Single()!["data"]!;
        var module = (string?)receipt["moduleSha256"];
        module.ShouldNotBeNull().ShouldStartWith("sha256:");
        ((string?)receipt["imageDigest"]).ShouldBeNull();

        var (status, replay) = await fixture.ReplayAsync(runId, AdminKey);

        status.ShouldBe(HttpStatusCode.OK, replay.ToJsonString());
        ((bool)replay["identical"]!).ShouldBeTrue(replay.ToJsonString());
        ((string)replay["artifactDigest"]!).ShouldBe(module);
        ((string)replay["replayRun"]!["result"]!["stdout"]!).ShouldBe("42\n");
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

    [Fact]
    public async Task Replay_ImageDigestNoLongerPresent_Is409NamingItAndRunsNothing()
    {
        await using var fixture = await Fixture.CreateAsync();
        var runId = await fixture.RunAsync(new { language = "python", code = "print(1)", purpose = "its image will be gone" });
        const string Gone = "sha256:00000000000000000000000000000000000000000000000000000000000000aa";
        await fixture.SetStoredDigestAsync(runId, Gone);

        var (status, problem) = await fixture.ReplayAsync(runId, AdminKey);

        status.ShouldBe(HttpStatusCode.Conflict, problem.ToJsonString());
        ((string)problem["code"]!).ShouldBe("artifact_digest_missing");
        ((string)problem["detail"]!).ShouldContain(Gone);
        (await fixture.AuditAsync("/admin/v1/audit?kind=receipt")).Count.ShouldBe(1, "nothing else ran in its place");
    }

    [Fact]
    public async Task RunsReplay_Cli_AgainstTheDataFolder_PrintsIdenticalAndAuditsTheReplay()
    {
        await using var fixture = await Fixture.CreateAsync();
        var runId = await fixture.RunAsync(new { language = "python", code = "print('deterministic')", purpose = "replay from the CLI" });

        var text = await fixture.CliAsync("runs", "replay", runId);
        var json = JsonNode.Parse(await fixture.CliAsync("runs", "replay", runId, "--json", "--by", "alice"))!;

        text.ShouldContain($"of {runId} on sha256:");
        text.ShouldContain("identical");
        ((bool)json["identical"]!).ShouldBeTrue();
        ((string)json["replayRun"]!["result"]!["stdout"]!).ShouldBe("deterministic\n");
        var receipts = await fixture.AuditAsync("/admin/v1/audit?kind=receipt");
        receipts.Count.ShouldBe(3, "the original and two replays");
        ((string?)receipts[2]!["data"]!["replayOf"]).ShouldBe(runId);
        ((string?)receipts[2]!["data"]!["replayedBy"]).ShouldBe("alice");
        ((bool)(await fixture.Http.AdminGetAsync(AdminKey, "/admin/v1/audit/verify"))["intact"]!).ShouldBeTrue();
    }

    [Fact]
    public async Task RunsReplay_Cli_UnknownRun_Exits1NamingIt()
    {
        await using var fixture = await Fixture.CreateAsync();

        var (code, _, stderr) = await fixture.CliRawAsync("runs", "replay", "run_unknown0001");

        code.ShouldBe(1);
        stderr.ShouldContain("run_not_found");
        stderr.ShouldContain("run_unknown0001");
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
            var created = await new AgentAdmin(store, TimeProvider.System).CreateAsync(new AgentSpec { Name = "replayer", Profiles = ["python", "python-wasm"] }, "test", Token);
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

        /// <summary>Points the run's stored inputs at another digest, as if its image had been removed since.</summary>
        public async Task SetStoredDigestAsync(string runId, string digest)
        {
            await using var connection = new SqliteConnection($"Data Source={GuardPaths.Database(_data)}");
            await connection.OpenAsync(Token);
            await using var update = connection.CreateCommand();
            update.CommandText = "UPDATE run_inputs SET inputs = json_set(inputs, '$.artifactDigest', $digest) WHERE run_id = $run";
            update.Parameters.AddWithValue("$digest", digest);
            update.Parameters.AddWithValue("$run", runId);
            (await update.ExecuteNonQueryAsync(Token)).ShouldBe(1);
        }

        /// <summary><c>sandbox ARGS --data DIR</c> as a process; its stdout, failing the test on a non-zero exit.</summary>
        public async Task<string> CliAsync(params string[] args)
        {
            var (code, stdout, stderr) = await CliRawAsync(args);
            code.ShouldBe(0, stderr);
            foreach (var line in stdout.Split('\n'))
            {
                if (line.Contains("\"replay\":", StringComparison.Ordinal) || line.StartsWith("replay ", StringComparison.Ordinal))
                {
                    var id = line.Contains('"') ? line.Split('"')[3] : line.Split(' ')[1];
                    RunIds.Add(id);
                }
            }

            return stdout;
        }

        public Task<(int Code, string Stdout, string Stderr)> CliRawAsync(params string[] args) =>
            SandboxCli.RunAsync([.. args, "--data", _data], TimeSpan.FromSeconds(60), Token);

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
