using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
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
/// Work claimed, not pushed (issue 15, point 2), with two real <c>sandbox serve</c> nodes on one PostgreSQL: node-a has one
/// slot and it is busy, so the runs POSTed to it are offered to every node; node-b claims and runs them, and node-a's
/// synchronous POSTs answer with their results from the store. Each run runs once (one receipt, one result), nothing is
/// left open, its idempotency key replays on either node, and the one audit chain verifies.
/// </summary>
[Trait("Category", "Integration")]
public sealed class WorkClaimTests(PostgresCluster cluster)
{
    private const string AdminKey = "sbx_admin_work_claim_test_key_00000000001";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PostToANodeWithNoFreeSlot_IsClaimedAndRunByAnother_AndTheSynchronousPostAnswersWithItsResult_ExactlyOnce()
    {
        var connectionString = await cluster.CreateDatabaseAsync(Token);
        var key = await SharedStoreNodes.CreateAgentAsync(connectionString, new AgentSpec { Name = "claims", Profiles = ["python-wasm"], MaxConcurrentRuns = 8, RatePerMinute = 600 }, Token);

        var folders = new List<string>();
        ServeProcess Start(string name, int slots)
        {
            var data = Path.Join(Path.GetTempPath(), "sandbox-claim-" + Guid.NewGuid().ToString("N"));
            folders.Add(data);
            return ServeProcess.Start(data, AdminKey, environment: new Dictionary<string, string>
            {
                ["Sandbox__Store__Provider"] = "postgres",
                ["Sandbox__Store__ConnectionString"] = connectionString,
                ["Sandbox__Guard__NodeId"] = name,
                ["Sandbox__MaxConcurrentRuns"] = slots.ToString(CultureInfo.InvariantCulture),
            });
        }

        using var a = Start("node-a", slots: 1);
        using var b = Start("node-b", slots: 2);
        try
        {
            await a.WaitHealthyAsync(Token);
            await b.WaitHealthyAsync(Token);
            await PostAsync(b, key, "print('warm')\n"); // its first WebAssembly run compiles the module: no part of what is measured

            // node-a's one slot is busy for 6 s.
            var (slowStatus, slow, _) = await PostAsync(a, key, "import time\ntime.sleep(6)\nprint('slow')\n", async: true);
            slowStatus.ShouldBe(202);
            var slowId = (string)slow["id"]!;
            await WaitForAsync(connectionString, $"SELECT COUNT(*) FROM runs WHERE run_id = '{slowId}' AND owner_node = 'node-a' AND state = 'running'", 1);

            // A synchronous POST to node-a: offered, claimed by node-b, and answered on node-a with the result.
            var waited = Stopwatch.StartNew();
            var (status, view, replayed) = await PostAsync(a, key, "print('claimed', 6 * 7)\n", idempotencyKey: "claim-1", rawOutput: true);
            var answeredMs = waited.ElapsedMilliseconds;
            status.ShouldBe(200, view.ToJsonString());
            replayed.ShouldBeFalse();
            ((string?)view["state"]).ShouldBe("completed");
            ((string?)view["result"]!["stdout"]).ShouldBe("claimed 42\n");
            Encoding.UTF8.GetString(Convert.FromBase64String((string)view["raw"]!["stdout"]!)).ShouldBe("claimed 42\n", "the claimer answers in the form the caller asked node-a for");
            var id = (string)view["id"]!;
            (await ScalarAsync(connectionString, $"SELECT COUNT(*) FROM runs WHERE run_id = '{id}' AND owner_node = 'node-b' AND status = 'ok'")).ShouldBe(1, "node-b ran it");
            TestContext.Current.TestOutputHelper?.WriteLine($"synchronous POST to the busy node answered by the claimer's result in {answeredMs} ms (queued {view["queueMs"]} ms, ran {view["runMs"]} ms, created {view["createdAt"]}, started {view["startedAt"]})");

            // Its key replays the same run on either node; GET on node-a answers from the store.
            foreach (var node in new[] { a, b })
            {
                var (again, replay, isReplay) = await PostAsync(node, key, "print('claimed', 6 * 7)\n", idempotencyKey: "claim-1", rawOutput: true);
                (again, isReplay, (string?)replay["id"]).ShouldBe((200, true, id));
            }

            ((string?)(await GetRunAsync(a, key, id))["result"]!["stdout"]).ShouldBe("claimed 42\n");

            // A burst of synchronous POSTs to the busy node: every one answered with its own result, none lost, none run twice.
            var burst = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => PostAsync(a, key, $"print('burst', {i})\n")));
            var burstIds = new List<string>();
            for (var i = 0; i < burst.Length; i++)
            {
                burst[i].Status.ShouldBe(200, burst[i].View.ToJsonString());
                ((string?)burst[i].View["result"]!["stdout"]).ShouldBe($"burst {i}\n");
                burstIds.Add((string)burst[i].View["id"]!);
            }

            await WaitForAsync(connectionString, $"SELECT COUNT(*) FROM runs WHERE run_id = '{slowId}' AND state = 'completed'", 1);
            DateTimeOffset.Parse((string)view["startedAt"]!, CultureInfo.InvariantCulture)
                .ShouldBeLessThan(DateTimeOffset.Parse((string)(await GetRunAsync(a, key, slowId))["completedAt"]!, CultureInfo.InvariantCulture), "it did not wait for node-a's slot");
            (await ScalarAsync(connectionString, "SELECT COUNT(*) FROM runs WHERE state <> 'completed'")).ShouldBe(0, "nothing left open, nothing waiting unclaimed");
            await using var verifier = await PostgresGuardStore.OpenAsync(connectionString, TimeProvider.System, Token);
            foreach (var run in burstIds.Append(id).Append(slowId))
            {
                (await verifier.QueryAuditAsync(new AuditQuery { RunId = run, Kind = AuditKinds.Receipt }, Token)).Count.ShouldBe(1, $"{run} admitted once");
                var result = (await verifier.QueryAuditAsync(new AuditQuery { RunId = run, Kind = AuditKinds.Result }, Token)).ShouldHaveSingleItem($"{run} ran once");
                if (run != slowId)
                {
                    // The slow run's own status is no business of this test (on a loaded machine its sleep may meet its wall limit).
                    result.Status.ShouldBe("ok");
                }
            }

            // The operator's check, as an operator runs it: one chain across both nodes.
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
            a.Kill();
            b.Kill();
            foreach (var folder in folders.Where(Directory.Exists))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Fact]
    public async Task DeleteOfAnOfferNoNodeClaimedYet_EndsItCancelledAtOnce_OnAnyNode_WithoutItEverRunning()
    {
        var connectionString = await cluster.CreateDatabaseAsync(Token);
        var key = await SharedStoreNodes.CreateAgentAsync(connectionString, new AgentSpec { Name = "offers", Profiles = ["python-wasm"], MaxConcurrentRuns = 8, RatePerMinute = 600 }, Token);

        var folders = new List<string>();
        ServeProcess Start(string name)
        {
            var data = Path.Join(Path.GetTempPath(), "sandbox-claim-" + Guid.NewGuid().ToString("N"));
            folders.Add(data);
            return ServeProcess.Start(data, AdminKey, environment: new Dictionary<string, string>
            {
                ["Sandbox__Store__Provider"] = "postgres",
                ["Sandbox__Store__ConnectionString"] = connectionString,
                ["Sandbox__Guard__NodeId"] = name,
                ["Sandbox__MaxConcurrentRuns"] = "1",
            });
        }

        using var a = Start("node-a");
        using var b = Start("node-b");
        try
        {
            await a.WaitHealthyAsync(Token);
            await b.WaitHealthyAsync(Token);

            // Every slot of both nodes busy: an offer made now waits in the shared queue, claimed by nobody.
            var slow = new List<string>();
            foreach (var node in new[] { a, b })
            {
                var (_, started, _) = await PostAsync(node, key, "import time\ntime.sleep(30)\n", async: true);
                slow.Add((string)started["id"]!);
                await WaitForAsync(connectionString, $"SELECT COUNT(*) FROM runs WHERE run_id = '{slow[^1]}' AND state = 'running'", 1);
            }

            var (offeredStatus, offered, _) = await PostAsync(a, key, "print('must never run')\n", async: true);
            offeredStatus.ShouldBe(202, offered.ToJsonString());
            var id = (string)offered["id"]!;
            (await ScalarAsync(connectionString, $"SELECT COUNT(*) FROM runs WHERE run_id = '{id}' AND state = 'queued' AND owner_node IS NULL AND needs IS NOT NULL"))
                .ShouldBe(1, "offered, and nobody has a free slot to claim it");

            // DELETE through the other node: it claims the offer itself and ends it, rather than wait for a free slot.
            var asked = Stopwatch.StartNew();
            using var delete = new HttpRequestMessage(HttpMethod.Delete, $"/v1/runs/{id}");
            delete.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var deleted = await b.Http.SendAsync(delete, Token);
            var body = JsonNode.Parse(await deleted.Content.ReadAsStringAsync(Token))!;
            var answeredMs = asked.ElapsedMilliseconds;
            ((int)deleted.StatusCode).ShouldBe(200, body.ToJsonString());
            ((string?)body["result"]?["status"]).ShouldBe("cancelled", body.ToJsonString());
            TestContext.Current.TestOutputHelper?.WriteLine($"DELETE on node-b of an unclaimed offer of node-a answered 200 cancelled after {answeredMs} ms");

            await using var verifier = await PostgresGuardStore.OpenAsync(connectionString, TimeProvider.System, Token);
            var row = (await verifier.FindRunAsync(id, Token)).ShouldNotBeNull();
            (row.State, row.Status).ShouldBe(("completed", "cancelled"));
            (await verifier.QueryAuditAsync(new AuditQuery { RunId = id, Kind = AuditKinds.Result }, Token)).ShouldHaveSingleItem().Status.ShouldBe("cancelled");
            ((string?)(await GetRunAsync(a, key, id))["result"]?["status"]).ShouldBe("cancelled", "the admitting node answers the stored end");
            (await ScalarAsync(connectionString, $"SELECT COUNT(*) FROM runs WHERE run_id = '{id}' AND view LIKE '%must never run%'")).ShouldBe(0);

            foreach (var run in slow)
            {
                using var stop = new HttpRequestMessage(HttpMethod.Delete, $"/v1/runs/{run}");
                stop.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                using var stopped = await a.Http.SendAsync(stop, Token);
            }

            await WaitForAsync(connectionString, "SELECT COUNT(*) FROM runs WHERE state <> 'completed'", 0);
            var verification = await verifier.VerifyAuditAsync(Token);
            verification.Intact.ShouldBeTrue(verification.Problem);
        }
        finally
        {
            a.Kill();
            b.Kill();
            foreach (var folder in folders.Where(Directory.Exists))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private static async Task<(int Status, JsonNode View, bool Replayed)> PostAsync(ServeProcess node, string key, string code, bool async = false, string? idempotencyKey = null, bool rawOutput = false)
    {
        var body = new JsonObject { ["language"] = "python", ["backend"] = "wasm", ["code"] = code };
        if (async)
        {
            body["async"] = true;
        }

        if (rawOutput)
        {
            body["rawOutput"] = true;
        }

        using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/runs") { Content = JsonContent.Create(body) };
        post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (idempotencyKey is not null)
        {
            post.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await node.Http.SendAsync(post, Token);
        var view = JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!;
        return ((int)response.StatusCode, view, response.Headers.Contains("Idempotent-Replayed"));
    }
}
