using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Store;
using Sandbox.Guard.Tests.Store;
using Sandbox.Server.IntegrationTests.Mcp;
using Sandbox.Server.IntegrationTests.Support;

using static Sandbox.Server.IntegrationTests.Support.SharedStoreNodes;

namespace Sandbox.Server.IntegrationTests.Hosting;

/// <summary>
/// Node failure on one PostgreSQL store (issue 15, point 5), with real processes: two <c>sandbox serve</c> nodes, runs in
/// flight on one of them, and <c>kill -9</c> of that node. The survivor sees its lease expire and takes it over: each run
/// that was running gets exactly one <c>interrupted</c> result, each queued one runs to its end on the survivor, and the one
/// audit chain verifies with <c>sandbox audit verify</c>.
/// </summary>
[Trait("Category", "Integration")]
public sealed class NodeTakeoverTests(PostgresCluster cluster)
{
    private const string AdminKey = "sbx_admin_node_takeover_test_key_00000001";

    /// <summary>The lease under test: short, so the test waits seconds; the default is 5 s.</summary>
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KillNineOfANodeWithRunsInFlight_SurvivorClosesItsRunningRunsOnceAsInterrupted_RunsItsQueuedOnes_AndTheAuditVerifies()
    {
        var connectionString = await cluster.CreateDatabaseAsync(Token);
        var key = await SharedStoreNodes.CreateAgentAsync(connectionString, new AgentSpec { Name = "takeover", Profiles = ["python-wasm"], MaxConcurrentRuns = 8, RatePerMinute = 600 }, Token);

        var folders = new List<string>();
        ServeProcess Start(string name, int slots)
        {
            var data = Path.Join(Path.GetTempPath(), "sandbox-takeover-" + Guid.NewGuid().ToString("N"));
            folders.Add(data);
            return ServeProcess.Start(data, AdminKey, environment: new Dictionary<string, string>
            {
                ["Sandbox__Store__Provider"] = "postgres",
                ["Sandbox__Store__ConnectionString"] = connectionString,
                ["Sandbox__Store__NodeLease"] = Lease.ToString("c", CultureInfo.InvariantCulture),
                ["Sandbox__Guard__NodeId"] = name,
                ["Sandbox__MaxConcurrentRuns"] = slots.ToString(CultureInfo.InvariantCulture),
            });
        }

        using var a = Start("node-a", slots: 2);
        using var b = Start("node-b", slots: 2);
        var orphans = new List<int>();
        try
        {
            await a.WaitHealthyAsync(Token);
            await b.WaitHealthyAsync(Token);
            await WarmAsync(b, key);

            // Two runs that would take 15 s hold node-a's two slots; two quick ones admitted behind them are offered to every
            // node (node-a has no free slot), and node-b claims them (see WorkClaimTests).
            string[] slow = [await SubmitAsync(a, key, "import time\ntime.sleep(15)\nprint('never')\n"), await SubmitAsync(a, key, "import time\ntime.sleep(15)\nprint('never')\n")];
            string[] queued = [await SubmitAsync(a, key, "print('ran on the survivor', 6 * 7)\n"), await SubmitAsync(a, key, "print('ran on the survivor', 6 * 7)\n")];
            await WaitForAsync(connectionString, $"SELECT COUNT(*) FROM runs WHERE owner_node = 'node-a' AND state = 'running' AND run_id IN ('{slow[0]}', '{slow[1]}')", 2);
            (await ScalarAsync(connectionString, $"SELECT COUNT(*) FROM runs WHERE owner_node IS DISTINCT FROM 'node-a' AND run_id IN ('{queued[0]}', '{queued[1]}')"))
                .ShouldBe(2, "node-a's slots are full, so the quick runs are not node-a's to run: offered, or claimed by node-b");

            // kill -9: no drain, no lease released, nothing recorded by node-a from here on.
            orphans.AddRange(ChildrenOf(a.Process.Id));
            var killed = Stopwatch.StartNew();
            a.Kill();

            foreach (var id in slow)
            {
                await WaitForAsync(connectionString, $"SELECT COUNT(*) FROM runs WHERE run_id = '{id}' AND state = 'completed'", 1);
            }

            var takeoverMs = killed.ElapsedMilliseconds;
            foreach (var id in queued)
            {
                await WaitForAsync(connectionString, $"SELECT COUNT(*) FROM runs WHERE run_id = '{id}' AND state = 'completed'", 1);
            }

            // The lease (3 s) and a renewal round or two, with room for a loaded machine; the slow runs alone would take 15 s.
            takeoverMs.ShouldBeLessThan(10_000, "taken over soon after the lease ran out, not when the slow runs would have ended");
            TestContext.Current.TestOutputHelper?.WriteLine($"node-a killed; its running runs closed {takeoverMs} ms later, its queued runs done on node-b "
                + $"{killed.ElapsedMilliseconds} ms later; {orphans.Count(Alive)} of node-a's {orphans.Count} child process(es) still alive then");

            await using var verifier = await PostgresGuardStore.OpenAsync(connectionString, TimeProvider.System, Token);
            foreach (var id in slow)
            {
                var row = (await verifier.FindRunAsync(id, Token)).ShouldNotBeNull();
                (row.Status, row.OwnerNode).ShouldBe(("interrupted", "node-b"));
                row.Reason.ShouldNotBeNull().ShouldContain("node-a");
                (await verifier.QueryAuditAsync(new AuditQuery { RunId = id, Kind = AuditKinds.Result }, Token)).ShouldHaveSingleItem().Status.ShouldBe("interrupted");

                // The caller asks the survivor: the run's one end, from the store.
                var view = await GetRunAsync(b, key, id);
                ((string?)view["state"]).ShouldBe("completed");
                ((string?)view["result"]?["message"]).ShouldNotBeNull().ShouldContain("interrupted");
            }

            foreach (var id in queued)
            {
                var row = (await verifier.FindRunAsync(id, Token)).ShouldNotBeNull();
                (row.Status, row.OwnerNode).ShouldBe(("ok", "node-b"));
                (await verifier.QueryAuditAsync(new AuditQuery { RunId = id, Kind = AuditKinds.Result }, Token)).ShouldHaveSingleItem().Status.ShouldBe("ok");
                (await verifier.QueryAuditAsync(new AuditQuery { RunId = id, Kind = AuditKinds.Receipt }, Token)).Count.ShouldBe(1, "admitted once, by node-a; the survivor ran that admission");

                var view = await GetRunAsync(b, key, id);
                ((string?)view["result"]!["stdout"]).ShouldBe("ran on the survivor 42\n");
            }

            (await ScalarAsync(connectionString, "SELECT COUNT(*) FROM nodes WHERE node_id = 'node-a'")).ShouldBe(0, "taken over once, and its lease row gone");
            (await ScalarAsync(connectionString, "SELECT COUNT(*) FROM runs WHERE state <> 'completed'")).ShouldBe(0, "nothing left open");

            // The operator's check, as an operator runs it: the one chain across both nodes and the takeover.
            var (fileName, prefix) = McpProcess.SandboxExecutable();
            var verify = await ChildProcess.RunAsync(fileName, prefix.Concat(["audit", "verify"]), folders[1], new Dictionary<string, string>
            {
                ["SANDBOX_DATA"] = folders[1],
                ["Sandbox__Store__Provider"] = "postgres",
                ["Sandbox__Store__ConnectionString"] = connectionString,
            });
            verify.Exit.ShouldBe(0, verify.ToString());
        }
        finally
        {
            // WebAssembly workers node-a started die with it or at their deadline; none is left behind past the test.
            foreach (var pid in orphans)
            {
                try
                {
                    using var orphan = Process.GetProcessById(pid);
                    orphan.Kill();
                }
                catch (ArgumentException)
                {
                    // Already gone.
                }
            }

            foreach (var folder in folders.Where(Directory.Exists))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Fact]
    public async Task NodePausedPastItsLease_IsTakenOver_AndWhenItWakes_ItsLateResultsChangeNothingAndItServesOn()
    {
        var connectionString = await cluster.CreateDatabaseAsync(Token);
        var key = await SharedStoreNodes.CreateAgentAsync(connectionString, new AgentSpec { Name = "paused", Profiles = ["python-wasm"], MaxConcurrentRuns = 8, RatePerMinute = 600 }, Token);

        var folders = new List<string>();
        ServeProcess Start(string name)
        {
            var data = Path.Join(Path.GetTempPath(), "sandbox-takeover-" + Guid.NewGuid().ToString("N"));
            folders.Add(data);
            return ServeProcess.Start(data, AdminKey, environment: new Dictionary<string, string>
            {
                ["Sandbox__Store__Provider"] = "postgres",
                ["Sandbox__Store__ConnectionString"] = connectionString,
                ["Sandbox__Store__NodeLease"] = Lease.ToString("c", CultureInfo.InvariantCulture),
                ["Sandbox__Guard__NodeId"] = name,
                ["Sandbox__MaxConcurrentRuns"] = "2",
            });
        }

        using var a = Start("node-a");
        using var b = Start("node-b");
        var paused = false;
        try
        {
            await a.WaitHealthyAsync(Token);
            await b.WaitHealthyAsync(Token);
            await WarmAsync(b, key);

            // Two runs that print after 8 s fill node-a's slots; a quick one is offered, and node-b claims it.
            var submitted = Stopwatch.StartNew();
            string[] slow = [await SubmitAsync(a, key, "import time\ntime.sleep(8)\nprint('late')\n"), await SubmitAsync(a, key, "import time\ntime.sleep(8)\nprint('late')\n")];
            var queued = await SubmitAsync(a, key, "print('ran once', 6 * 7)\n");
            await WaitForAsync(connectionString, $"SELECT COUNT(*) FROM runs WHERE owner_node = 'node-a' AND state = 'running' AND run_id IN ('{slow[0]}', '{slow[1]}')", 2);
            var oldFence = await ScalarAsync(connectionString, "SELECT fence FROM nodes WHERE node_id = 'node-a'");

            // SIGSTOP: node-a is alive but silent (a long pause, a stalled VM); its WebAssembly workers go on running.
            (await ChildProcess.RunAsync("kill", ["-STOP", a.Process.Id.ToString(CultureInfo.InvariantCulture)], folders[0])).Exit.ShouldBe(0);
            paused = true;
            foreach (var id in slow.Append(queued))
            {
                await WaitForAsync(connectionString, $"SELECT COUNT(*) FROM runs WHERE run_id = '{id}' AND state = 'completed'", 1);
            }

            // node-a wakes after its slow runs' code has finished: it holds their results, and a queued run, all taken over.
            var wake = TimeSpan.FromSeconds(10) - submitted.Elapsed;
            if (wake > TimeSpan.Zero)
            {
                await Task.Delay(wake, Token);
            }

            (await ChildProcess.RunAsync("kill", ["-CONT", a.Process.Id.ToString(CultureInfo.InvariantCulture)], folders[0])).Exit.ShouldBe(0);
            paused = false;
            await WaitForAsync(connectionString, $"SELECT COUNT(*) FROM nodes WHERE node_id = 'node-a' AND fence > {oldFence}", 1);
            await a.WaitHealthyAsync(Token);

            // Give its late ends time to be tried (and refused), then look: one end per run, the survivor's.
            await Task.Delay(TimeSpan.FromSeconds(2), Token);
            await using var verifier = await PostgresGuardStore.OpenAsync(connectionString, TimeProvider.System, Token);
            foreach (var id in slow)
            {
                (await verifier.FindRunAsync(id, Token)).ShouldNotBeNull().Status.ShouldBe("interrupted", "node-a's late 'ok' was refused by its stale fence");
                (await verifier.QueryAuditAsync(new AuditQuery { RunId = id, Kind = AuditKinds.Result }, Token)).ShouldHaveSingleItem().Status.ShouldBe("interrupted");
                ((string?)(await GetRunAsync(a, key, id))["result"]?["message"]).ShouldNotBeNull().ShouldContain("interrupted", customMessage: "node-a answers the stored end, not its own");
            }

            (await verifier.FindRunAsync(queued, Token)).ShouldNotBeNull().OwnerNode.ShouldBe("node-b");
            (await verifier.QueryAuditAsync(new AuditQuery { RunId = queued, Kind = AuditKinds.Result }, Token)).ShouldHaveSingleItem().Status.ShouldBe("ok");
            ((string?)(await GetRunAsync(a, key, queued))["result"]!["stdout"]).ShouldBe("ran once 42\n");

            // node-a serves on under its new lease.
            var fresh = await SubmitAsync(a, key, "print('after the pause')\n");
            await WaitForAsync(connectionString, $"SELECT COUNT(*) FROM runs WHERE run_id = '{fresh}' AND status = 'ok' AND owner_node = 'node-a'", 1);
            var verification = await verifier.VerifyAuditAsync(Token);
            verification.Intact.ShouldBeTrue(verification.Problem);
        }
        finally
        {
            if (paused)
            {
                await ChildProcess.RunAsync("kill", ["-CONT", a.Process.Id.ToString(CultureInfo.InvariantCulture)], folders[0]);
            }

            a.Kill();
            b.Kill();
            foreach (var folder in folders.Where(Directory.Exists))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Fact]
    public async Task SecondNodeUnderALiveNodesId_RefusesToStart_AndTheLiveNodeKeepsItsLease()
    {
        var connectionString = await cluster.CreateDatabaseAsync(Token);
        var folders = new List<string>();
        ServeProcess Start()
        {
            var data = Path.Join(Path.GetTempPath(), "sandbox-takeover-" + Guid.NewGuid().ToString("N"));
            folders.Add(data);
            return ServeProcess.Start(data, AdminKey, environment: new Dictionary<string, string>
            {
                ["Sandbox__Store__Provider"] = "postgres",
                ["Sandbox__Store__ConnectionString"] = connectionString,
                ["Sandbox__Store__NodeLease"] = Lease.ToString("c", CultureInfo.InvariantCulture),
                ["Sandbox__Guard__NodeId"] = "same-id",
            });
        }

        using var first = Start();
        try
        {
            await first.WaitHealthyAsync(Token);
            var fence = await ScalarAsync(connectionString, "SELECT fence FROM nodes WHERE node_id = 'same-id'");

            // Two live nodes under one id would fence each other's runs out: the second waits out two leases, then stops.
            using var second = Start();
            var waited = Stopwatch.StartNew();
            (await second.Process.WaitForExitAsync(Token).WaitAsync(TimeSpan.FromSeconds(30), Token).ContinueWith(t => t.IsCompletedSuccessfully, Token))
                .ShouldBeTrue("the second node gave up on the id");
            second.Process.ExitCode.ShouldNotBe(0);
            waited.Elapsed.ShouldBeGreaterThan(Lease, "an earlier process's lease is waited out first: a restart after a crash gets the id");

            (await ScalarAsync(connectionString, "SELECT fence FROM nodes WHERE node_id = 'same-id'")).ShouldBe(fence, "the live node's lease was never taken");
            using var health = await first.Http.GetAsync("/healthz", Token);
            health.IsSuccessStatusCode.ShouldBeTrue();
        }
        finally
        {
            first.Kill();
            foreach (var folder in folders.Where(Directory.Exists))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    /// <summary>
    /// One run on the survivor first, as a node in service has had: its first WebAssembly run compiles the module, which on
    /// a loaded 2-core machine takes seconds that are no part of the takeover.
    /// </summary>
    private static async Task WarmAsync(ServeProcess node, string key)
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/runs")
        {
            Content = JsonContent.Create(new { language = "python", backend = "wasm", code = "print('warm')\n" }),
        };
        post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await node.Http.SendAsync(post, Token);
        ((int)response.StatusCode).ShouldBe(200, await response.Content.ReadAsStringAsync(Token));
    }

    private static async Task<string> SubmitAsync(ServeProcess node, string key, string code)
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/runs")
        {
            Content = JsonContent.Create(new { language = "python", backend = "wasm", code, @async = true, purpose = "node takeover" }),
        };
        post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await node.Http.SendAsync(post, Token);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!;
        ((int)response.StatusCode).ShouldBe(202, body.ToJsonString());
        return (string)body["id"]!;
    }

    private static bool Alive(int pid) => Directory.Exists($"/proc/{pid}");

    /// <summary>The processes whose parent is <paramref name="pid"/>, from /proc.</summary>
    private static List<int> ChildrenOf(int pid)
    {
        var children = new List<int>();
        foreach (var folder in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out var child))
            {
                continue;
            }

            try
            {
                // stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after its closing parenthesis.
                var stat = File.ReadAllText(Path.Join(folder, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) == pid)
                {
                    children.Add(child);
                }
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }

        return children;
    }
}
