using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Store;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Hosting;

/// <summary>One at a time, after the parallel collections: the revocation test holds a 1 s deadline, which needs the machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
#pragma warning disable CA1711 // xUnit's own idiom: a collection definition is named for the collection it defines.
public sealed class ClusterCollection
#pragma warning restore CA1711
{
    public const string Name = "LocalCluster";
}

/// <summary>
/// Issue 15's cluster tests: the cluster <c>make cluster</c> starts (a real PostgreSQL, three real <c>sandbox serve</c>
/// nodes on it, nginx in front; <see cref="LocalCluster"/>), with Python runs in real Docker containers.
/// </summary>
[Trait("Category", "Integration")]
[Collection(ClusterCollection.Name)]
public sealed class ClusterTests(LocalCluster cluster) : IClassFixture<LocalCluster>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ThroughNginx_AgentCappedAtTwo_TenRuns_NeverMoreThanTwoRunningAcrossNodes()
    {
        var (agentId, key) = await CreateAgentAsync("capped", maxConcurrentRuns: 2);

        // The store's view while the runs go on: the agent's rows running, and holding a slot, sampled every 10 ms.
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var sampler = Task.Run(async () =>
        {
            long mostRunning = 0, mostOpen = 0;
            await using var connection = new NpgsqlConnection(cluster.ConnectionString);
            await connection.OpenAsync(sampling.Token);
            while (!sampling.IsCancellationRequested)
            {
                await using var count = new NpgsqlCommand(
                    "SELECT COUNT(*) FILTER (WHERE state = 'running'), COUNT(*) FILTER (WHERE state IN ('queued', 'running')) FROM runs WHERE agent_id = @agent", connection);
                count.Parameters.AddWithValue("agent", agentId);
                await using var reader = await count.ExecuteReaderAsync(sampling.Token);
                await reader.ReadAsync(sampling.Token);
                mostRunning = Math.Max(mostRunning, reader.GetInt64(0));
                mostOpen = Math.Max(mostOpen, reader.GetInt64(1));
                await reader.DisposeAsync();
                await Task.Delay(10, CancellationToken.None);
            }

            return (mostRunning, mostOpen);
        }, CancellationToken.None);

        // Ten runs at once through nginx, each busy for 0.6 s; a 429 (the cap, on whichever node) is retried until it runs.
        using var http = LocalCluster.Client(cluster.Url);
        var refusals = 0;
        var views = new ConcurrentBag<JsonNode>();
        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Task.Run(async () =>
        {
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                var (status, body) = await PostRunAsync(http, key, new
                {
                    language = "python",
                    code = "import time\ntime.sleep(0.6)\nprint('done')\n",
                    purpose = "ten runs, one cap, three nodes",
                });
                if (status == HttpStatusCode.OK)
                {
                    views.Add(body);
                    return;
                }

                status.ShouldBe(HttpStatusCode.TooManyRequests, body.ToJsonString());
                ((string?)body["cap"]).ShouldBe("concurrent_runs", body.ToJsonString());
                Interlocked.Increment(ref refusals);
                deadline.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(90), "run " + i + " was refused for 90 s");
                await Task.Delay(100, Token);
            }
        }, Token)));

        await sampling.CancelAsync();
        var (mostRunning, mostOpen) = await sampler;

        views.Count.ShouldBe(10);
        views.ShouldAllBe(v => (string?)v["result"]!["status"] == "ok");
        mostRunning.ShouldBeLessThanOrEqualTo(2, "the store never held more than two of the agent's runs running");
        mostOpen.ShouldBeLessThanOrEqualTo(2, "the store never held more than two of the agent's runs queued or running");
        mostRunning.ShouldBeGreaterThan(0, "the sampler saw the runs (a sampler that sees nothing proves nothing)");
        refusals.ShouldBeGreaterThan(0, "ten runs at once against a cap of two were refused at first");

        // The harm itself, from the runs' own times: at no instant were more than two of them running.
        var intervals = views.Select(v => (
            Start: DateTimeOffset.Parse((string)v["startedAt"]!, CultureInfo.InvariantCulture),
            End: DateTimeOffset.Parse((string)v["completedAt"]!, CultureInfo.InvariantCulture),
            RunMs: (double?)v["runMs"], QueueMs: (double?)v["queueMs"], Created: (string?)v["createdAt"])).OrderBy(i => i.Start).ToList();
        // The most at one instant is reached at some run's start: count the runs under way at each start.
        intervals.Max(i => intervals.Count(o => o.Start <= i.Start && i.Start < o.End)).ShouldBeLessThanOrEqualTo(2,
            string.Join("\n", intervals.Select(i => $"{i.Created} {i.Start:HH:mm:ss.fff} {i.End:HH:mm:ss.fff} run {i.RunMs} queue {i.QueueMs}")));

        // And they were spread over the nodes: the cap held across them, not inside one.
        var nodes = await NodesOfAsync(views.Select(v => (string)v["id"]!).ToList());
        nodes.Distinct().Count().ShouldBeGreaterThanOrEqualTo(2, string.Join(", ", nodes));
    }

    [Fact]
    public async Task RevokedThroughOneNode_RunsOnTheOthersAreKilledWithinOneSecond_ContainersGone()
    {
        var (agentId, key) = await CreateAgentAsync("revoked", maxConcurrentRuns: 4);
        var nodes = cluster.NodeUrls;

        // One long run on node-2 and one on node-3, each in its own container.
        var runs = new List<(HttpClient Node, string Id)>();
        foreach (var node in nodes.Skip(1))
        {
            var http = LocalCluster.Client(node);
            var (status, body) = await PostRunAsync(http, key, new
            {
                language = "python",
                code = "import time\ntime.sleep(120)\n",
                purpose = "killed by a revocation made elsewhere",
                @async = true,
            });
            status.ShouldBe(HttpStatusCode.Accepted, body.ToJsonString());
            runs.Add((http, (string)body["id"]!));
        }

        try
        {
            var waiting = Stopwatch.StartNew();
            while (true)
            {
                var states = await Task.WhenAll(runs.Select(r => StateAsync(r.Node, key, r.Id)));
                var containers = await ContainersAsync();
                if (states.All(s => s == "running") && runs.All(r => containers.Any(c => c.Contains(r.Id, StringComparison.Ordinal))))
                {
                    break;
                }

                waiting.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), $"the runs did not start: {string.Join(", ", states)}");
                await Task.Delay(50, Token);
            }

            // Revoked through node-1, which holds none of the runs: only the shared store tells the others.
            using var admin = LocalCluster.Client(nodes[0]);
            using var revoke = new HttpRequestMessage(HttpMethod.Post, $"/admin/v1/agents/{agentId}/revoke")
            {
                Content = JsonContent.Create(new { reason = "cluster test" }),
            };
            revoke.Headers.Authorization = new AuthenticationHeaderValue("Bearer", cluster.AdminKey);
            var clock = Stopwatch.StartNew();
            using (var answer = await admin.SendAsync(revoke, Token))
            {
                answer.StatusCode.ShouldBe(HttpStatusCode.OK, await answer.Content.ReadAsStringAsync(Token));
            }

            // Done when each run is completed on its node and no container of either is left; polled every 20 ms.
            TimeSpan? done = null, ended = null;
            string?[] states2 = [];
            while (clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                // Read with the admin key's view of the store: the agent's own key stopped working with the revocation.
                states2 = await Task.WhenAll(runs.Select(r => StoredStateAsync(r.Id)));
                if (ended is null && states2.All(s => s == "completed"))
                {
                    ended = clock.Elapsed;
                }

                var containers = await ContainersAsync();
                if (states2.All(s => s == "completed") && !runs.Any(r => containers.Any(c => c.Contains(r.Id, StringComparison.Ordinal))))
                {
                    done = clock.Elapsed;
                    break;
                }

                await Task.Delay(20, Token);
            }

            TestContext.Current.TestOutputHelper?.WriteLine($"[cluster report] revocation through node-1 -> runs on node-2 and node-3 completed in {ended?.TotalMilliseconds:F0} ms, containers gone in {done?.TotalMilliseconds:F0} ms");
            done.ShouldNotBeNull($"after 10 s: {string.Join(", ", states2)}\n{cluster.NodeLog(2)}");
            done.Value.ShouldBeLessThan(TimeSpan.FromSeconds(1), "a revocation reaches every node's runs within 1 s");
        }
        finally
        {
            foreach (var (node, _) in runs)
            {
                node.Dispose();
            }
        }
    }

    [Fact]
    public async Task IdempotencyKey_ReplayedOnAnotherNode_ReturnsTheSameRun()
    {
        var (_, key) = await CreateAgentAsync("replayed", maxConcurrentRuns: 4);
        var nodes = cluster.NodeUrls.Select(LocalCluster.Client).ToList();
        try
        {
            var body = new { language = "python", code = "import uuid\nprint(uuid.uuid4())\n", purpose = "one run, whatever node" };
            var idempotencyKey = Guid.NewGuid().ToString();
            var (firstStatus, first) = await PostRunAsync(nodes[0], key, body, idempotencyKey);
            firstStatus.ShouldBe(HttpStatusCode.OK, first.ToJsonString());
            var stdout = (string?)first["result"]!["stdout"];
            stdout.ShouldNotBeNullOrWhiteSpace();

            // The same key on the two other nodes: the first run's id and output (a second run would print another uuid).
            foreach (var node in nodes.Skip(1))
            {
                var (status, again) = await PostRunAsync(node, key, body, idempotencyKey);
                status.ShouldBe(HttpStatusCode.OK, again.ToJsonString());
                ((string?)again["id"]).ShouldBe((string?)first["id"]);
                ((string?)again["result"]!["stdout"]).ShouldBe(stdout);
            }

            // A different body under the key is refused on another node too.
            var (otherStatus, other) = await PostRunAsync(nodes[2], key, new { body.language, code = "print(2)\n", body.purpose }, idempotencyKey);
            otherStatus.ShouldBe(HttpStatusCode.UnprocessableEntity, other.ToJsonString());
            ((string?)other["code"]).ShouldBe("idempotency_key_reused");

            // One new key sent to two nodes at the same moment: one run, whichever node wins, and both answers name it.
            var raced = Guid.NewGuid().ToString();
            var both = await Task.WhenAll(nodes.Skip(1).Select(n => PostRunAsync(n, key, body, raced)));
            TestContext.Current.TestOutputHelper?.WriteLine("[cluster report] one key on two nodes at once: " + string.Join(" | ", both.Select(b => $"{(int)b.Status} {b.Body["id"] ?? b.Body["code"]}")));
            // The winner answers 200 with the result; the other its replay: 200 if the run has ended, else 202 with its id.
            both.ShouldAllBe(b => b.Status == HttpStatusCode.OK || b.Status == HttpStatusCode.Accepted, string.Join("\n", both.Select(b => b.Body.ToJsonString())));
            both.ShouldContain(b => b.Status == HttpStatusCode.OK);
            ((string?)both[0].Body["id"]).ShouldBe((string?)both[1].Body["id"]);

            await using var connection = new NpgsqlConnection(cluster.ConnectionString);
            await connection.OpenAsync(Token);
            foreach (var run in (string[])[(string)first["id"]!, (string)both[0].Body["id"]!])
            {
                await using var count = new NpgsqlCommand("SELECT COUNT(*) FROM audit WHERE kind = 'receipt' AND run_id = @run", connection);
                count.Parameters.AddWithValue("run", run);
                ((long)(await count.ExecuteScalarAsync(Token))!).ShouldBe(1, "one run, one receipt: nothing ran twice");
            }

            await using var keys = new NpgsqlCommand("SELECT COUNT(*) FROM runs WHERE idempotency_key LIKE '%' || @key", connection);
            keys.Parameters.AddWithValue("key", raced);
            ((long)(await keys.ExecuteScalarAsync(Token))!).ShouldBe(1, "the raced key is bound to one run");
        }
        finally
        {
            nodes.ForEach(n => n.Dispose());
        }
    }

    [Fact]
    public async Task EventStream_ThroughNginx_ArrivesEventByEvent_FromWhicheverNodeItReaches()
    {
        var (_, key) = await CreateAgentAsync("streamed", maxConcurrentRuns: 4);
        using var http = LocalCluster.Client(cluster.Url);

        // Three runs, so round-robin sends some event streams to a node that does not hold the run (it streams it from the store).
        for (var run = 0; run < 3; run++)
        {
            var (status, accepted) = await PostRunAsync(http, key, new
            {
                language = "python",
                code = "import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(0.4)\n",
                purpose = "events through nginx",
                @async = true,
            });
            status.ShouldBe(HttpStatusCode.Accepted, accepted.ToJsonString());

            using var get = new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{(string)accepted["id"]!}/events");
            get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await http.SendAsync(get, HttpCompletionOption.ResponseHeadersRead, Token);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            await using var body = await response.Content.ReadAsStreamAsync(Token);
            using var reader = new StreamReader(body);
            var clock = Stopwatch.StartNew();
            var arrivals = new List<(string Event, TimeSpan At)>();
            while (await reader.ReadLineAsync(Token) is { } line)
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    arrivals.Add((line["event: ".Length..], clock.Elapsed));
                }
            }

            // Unbuffered: the first output reached us while the program still had 0.8 s of sleeping to do.
            var summary = string.Join(", ", arrivals.Select(a => $"{a.Event}@{a.At.TotalMilliseconds:F0}"));
            arrivals.ShouldContain(a => a.Event == "stdout", summary);
            arrivals[^1].Event.ShouldBe("result", summary);
            (arrivals[^1].At - arrivals.First(a => a.Event == "stdout").At).ShouldBeGreaterThan(TimeSpan.FromMilliseconds(500), summary);
        }
    }

    private async Task<(string AgentId, string Key)> CreateAgentAsync(string name, int maxConcurrentRuns)
    {
        await using var store = await PostgresGuardStore.OpenAsync(cluster.ConnectionString, TimeProvider.System, Token);
        var created = await new AgentAdmin(store, TimeProvider.System).CreateAsync(
            new AgentSpec { Name = name + "-" + Guid.NewGuid().ToString("N")[..8], Profiles = ["python"], MaxConcurrentRuns = maxConcurrentRuns, RatePerMinute = 600 },
            "test", Token);
        var issued = created.Value.ShouldNotBeNull(created.Message);
        return (issued.Agent.Id, issued.Key);
    }

    private static async Task<(HttpStatusCode Status, JsonNode Body)> PostRunAsync<T>(HttpClient http, string key, T body, string? idempotencyKey = null)
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/runs") { Content = JsonContent.Create(body) };
        post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (idempotencyKey is not null)
        {
            post.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await http.SendAsync(post, Token);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!);
    }

    private static async Task<string?> StateAsync(HttpClient node, string key, string runId)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, "/v1/runs/" + runId);
        get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await node.SendAsync(get, Token);
        return response.IsSuccessStatusCode ? (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!["state"] : null;
    }

    private async Task<string?> StoredStateAsync(string runId)
    {
        await using var connection = new NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync(Token);
        await using var state = new NpgsqlCommand("SELECT state FROM runs WHERE run_id = @run", connection);
        state.Parameters.AddWithValue("run", runId);
        return (string?)await state.ExecuteScalarAsync(Token);
    }

    /// <summary>Every container of ours, as "name label": a run's own carries its id as a label, a claimed warm one in its name.</summary>
    private static async Task<IReadOnlyList<string>> ContainersAsync()
    {
        var ps = await ChildProcess.RunAsync("docker",
            ["ps", "-a", "--filter", "label=io.sandbox.managed", "--format", "{{.Names}} {{.Label \"io.sandbox.run-id\"}}"], Path.GetTempPath());
        ps.Exit.ShouldBe(0, ps.ToString());
        return ps.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The node that admitted each run, from its request record in the one audit chain.</summary>
    private async Task<IReadOnlyList<string>> NodesOfAsync(IReadOnlyList<string> runIds)
    {
        await using var connection = new NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync(Token);
        await using var query = new NpgsqlCommand("SELECT data FROM audit WHERE kind = 'request' AND run_id = ANY(@runs)", connection);
        query.Parameters.AddWithValue("runs", runIds.ToArray());
        var nodes = new List<string>();
        await using var reader = await query.ExecuteReaderAsync(Token);
        while (await reader.ReadAsync(Token))
        {
            nodes.Add((string?)JsonNode.Parse(reader.GetString(0))?["node"] ?? "?");
        }

        return nodes;
    }
}
