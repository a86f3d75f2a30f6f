using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Store;
using Sandbox.Guard.Tests.Store;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Hosting;

/// <summary>
/// DELETE on whichever node the client reaches (issue 15, point 2), with two real <c>sandbox serve</c> nodes on one
/// PostgreSQL: a run executing on node-a is cancelled by a DELETE sent to node-b, which leaves the request in the store for
/// its owner; node-a kills it within a fraction of a second and records its one end.
/// </summary>
[Trait("Category", "Integration")]
public sealed class CrossNodeCancelTests(PostgresCluster cluster)
{
    private const string AdminKey = "sbx_admin_cross_node_cancel_test_key_0001";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DeleteOnAnotherNode_RunningRunIsKilledByItsOwner_WithOneCancelledResult_AndBothNodesAnswerIt()
    {
        var connectionString = await cluster.CreateDatabaseAsync(Token);
        var key = await SharedStoreNodes.CreateAgentAsync(connectionString, new AgentSpec { Name = "canceller", Profiles = ["python-wasm"], RatePerMinute = 600 }, Token);
        var otherKey = await SharedStoreNodes.CreateAgentAsync(connectionString, new AgentSpec { Name = "stranger", Profiles = ["python-wasm"], RatePerMinute = 600 }, Token);

        using var shared = new SharedStoreNodes(connectionString, AdminKey, "cross-cancel");
        var nodes = shared.Processes;
        shared.Start("node-a");
        shared.Start("node-b");

        foreach (var node in nodes)
        {
            await node.WaitHealthyAsync(Token);
        }

        var (a, b) = (nodes[0], nodes[1]);
        using var submit = Request(HttpMethod.Post, "/v1/runs", key);
        submit.Content = JsonContent.Create(new { language = "python", backend = "wasm", code = "import time\ntime.sleep(15)\nprint('never')\n", @async = true });
        using var submitted = await a.Http.SendAsync(submit, Token);
        submitted.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var id = (string)JsonNode.Parse(await submitted.Content.ReadAsStringAsync(Token))!["id"]!;
        await SharedStoreNodes.WaitForAsync(connectionString, $"SELECT COUNT(*) FROM runs WHERE run_id = '{id}' AND state = 'running' AND owner_node = 'node-a'", 1);

        // Another agent's DELETE through node-b learns nothing, and changes nothing.
        using var strangerDelete = Request(HttpMethod.Delete, $"/v1/runs/{id}", otherKey);
        using (var stranger = await b.Http.SendAsync(strangerDelete, Token))
        {
            stranger.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        var asked = Stopwatch.StartNew();
        using var delete = Request(HttpMethod.Delete, $"/v1/runs/{id}", key);
        using var deleted = await b.Http.SendAsync(delete, Token);
        var body = JsonNode.Parse(await deleted.Content.ReadAsStringAsync(Token))!;
        var answeredMs = asked.ElapsedMilliseconds;
        deleted.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToJsonString());
        ((string?)body["state"]).ShouldBe("completed", body.ToJsonString());
        ((string?)body["result"]?["status"]).ShouldBe("cancelled", body.ToJsonString());
        answeredMs.ShouldBeLessThan(5_000, "the owner acts within its watch interval and the kill is confirmed");
        TestContext.Current.TestOutputHelper?.WriteLine($"DELETE on node-b of a run on node-a answered 200 cancelled after {answeredMs} ms");

        await using var verifier = await PostgresGuardStore.OpenAsync(connectionString, TimeProvider.System, Token);
        (await verifier.FindRunAsync(id, Token)).ShouldNotBeNull().Status.ShouldBe("cancelled");
        var result = (await verifier.QueryAuditAsync(new AuditQuery { RunId = id, Kind = AuditKinds.Result }, Token)).ShouldHaveSingleItem();
        result.Status.ShouldBe("cancelled");
        result.Data.ShouldContain("cancelled by DELETE");

        foreach (var node in nodes)
        {
            using var read = Request(HttpMethod.Get, $"/v1/runs/{id}", key);
            using var get = await node.Http.SendAsync(read, Token);
            ((string?)JsonNode.Parse(await get.Content.ReadAsStringAsync(Token))!["result"]?["status"]).ShouldBe("cancelled");
        }

        using var deleteAgain = Request(HttpMethod.Delete, $"/v1/runs/{id}", key);
        using var again = await b.Http.SendAsync(deleteAgain, Token);
        again.StatusCode.ShouldBe(HttpStatusCode.Conflict, "it already ended");
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string key)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return request;
    }
}
