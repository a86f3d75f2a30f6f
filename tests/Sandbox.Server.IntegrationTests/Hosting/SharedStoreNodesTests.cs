using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Store;
using Sandbox.Guard.Tests.Store;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Hosting;

/// <summary>
/// Two real <c>sandbox serve</c> nodes on one PostgreSQL database (issue 15, point 1): an agent's concurrency cap holds
/// across them, and the one audit chain they both append to verifies.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SharedStoreNodesTests(PostgresCluster cluster)
{
    private const string AdminKey = "sbx_admin_shared_store_nodes_test_key_0001";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TwoNodes_AgentCappedAtTwo_NeverMoreThanTwoRunningAcrossThem_AndTheAuditChainVerifies()
    {
        var connectionString = await cluster.CreateDatabaseAsync(Token);
        var key = await SharedStoreNodes.CreateAgentAsync(connectionString, new AgentSpec { Name = "shared", Profiles = ["python-wasm"], MaxConcurrentRuns = 2, RatePerMinute = 600 }, Token);

        using var shared = new SharedStoreNodes(connectionString, AdminKey, "shared-store");
        var nodes = shared.Processes;
        shared.Start("node-a");
        shared.Start("node-b");

        foreach (var node in nodes)
        {
            await node.WaitHealthyAsync(Token);
        }

        // The database's view while the runs go on: the agent's rows holding a slot, sampled every 20 ms.
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var sampler = Task.Run(async () =>
        {
            var most = 0L;
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(sampling.Token);
            while (!sampling.IsCancellationRequested)
            {
                await using var count = new NpgsqlCommand("SELECT COUNT(*) FROM runs WHERE state IN ('queued', 'running')", connection);
                most = Math.Max(most, (long)(await count.ExecuteScalarAsync(sampling.Token))!);
                await Task.Delay(20, CancellationToken.None);
            }

            return most;
        }, CancellationToken.None);

        // Ten runs at once, five through each node, each busy for about a second.
        var answers = new ConcurrentBag<(HttpStatusCode Status, JsonNode Body)>();
        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Task.Run(async () =>
        {
            using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/runs")
            {
                Content = JsonContent.Create(new
                {
                    language = "python",
                    backend = "wasm",
                    code = "import time\nt = time.time()\nwhile time.time() - t < 1.0:\n    pass\nprint('done')\n",
                    purpose = "two nodes, one cap",
                }),
            };
            post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await nodes[i % 2].Http.SendAsync(post, Token);
            answers.Add((response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!));
        }, Token)));

        await sampling.CancelAsync();
        var mostOpen = await sampler;

        var admitted = answers.Where(a => a.Status == HttpStatusCode.OK).Select(a => a.Body).ToList();
        var refused = answers.Where(a => a.Status == HttpStatusCode.TooManyRequests).Select(a => a.Body).ToList();
        (admitted.Count + refused.Count).ShouldBe(10, string.Join("\n", answers.Select(a => $"{a.Status} {a.Body.ToJsonString()}")));
        admitted.Count.ShouldBeGreaterThanOrEqualTo(2);
        refused.ShouldAllBe(r => (string?)r["cap"] == "concurrent_runs");
        mostOpen.ShouldBeLessThanOrEqualTo(2, "the database never held more than the cap's rows queued or running");

        // The harm itself, from the runs' own times: at no instant were more than two of them running.
        var intervals = admitted.Select(r =>
        {
            var end = DateTimeOffset.Parse((string)r["completedAt"]!, CultureInfo.InvariantCulture);
            return (Start: end - TimeSpan.FromMilliseconds((double)r["runMs"]!), End: end);
        }).ToList();
        intervals.Max(i => intervals.Count(o => o.Start < i.End && i.Start < o.End)).ShouldBeLessThanOrEqualTo(2);
        admitted.ShouldAllBe(r => (string?)r["result"]!["status"] == "ok");

        await using var verifier = await PostgresGuardStore.OpenAsync(connectionString, TimeProvider.System, Token);
        var verification = await verifier.VerifyAuditAsync(Token);
        verification.Intact.ShouldBeTrue(verification.Problem);
        var receipts = await verifier.QueryAuditAsync(new Sandbox.Guard.Audit.AuditQuery { Kind = "receipt" }, Token);
        receipts.Count.ShouldBe(admitted.Count, "a refused admission leaves no receipt");
    }
}
