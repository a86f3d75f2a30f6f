using System.Diagnostics;
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
/// SSE on whichever node the client reaches (issue 15, point 2), with two real <c>sandbox serve</c> nodes on one PostgreSQL
/// and no proxy between them: a run printing for about two seconds on node-a is followed through node-b, which reads its
/// row and the output node-a persists as it streams. And a session, which lives in one node's memory: the other node says so.
/// </summary>
[Trait("Category", "Integration")]
public sealed class CrossNodeEventsTests(PostgresCluster cluster)
{
    private const string AdminKey = "sbx_admin_cross_node_events_test_key_0001";

    /// <summary>Ten lines, 0.2 s apart: several of node-a's output flushes (every 250 ms) while the run goes on.</summary>
    private const string Printer = "import time\nfor i in range(10):\n    print(f'line {i} ' + 'x' * 40, flush=True)\n    time.sleep(0.2)\n";

    private static readonly string Expected = string.Concat(Enumerable.Range(0, 10).Select(i => $"line {i} " + new string('x', 40) + "\n"));

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EventsOnAnotherNode_ArriveWhileTheRunPrints_EachByteOnce_AndEndWithTheOwnersResult()
    {
        await using var nodes = await TwoNodesAsync();
        var (a, b) = (nodes.A, nodes.B);
        var id = await SubmitAsync(a, nodes.Key);

        var followed = Stopwatch.StartNew();
        var onOwnersStream = Task.Run(async () =>
        {
            var timed = new List<(Event Event, long Ms)>();
            await foreach (var e in ReadEventsAsync(a, id, nodes.Key, lastEventId: null))
            {
                timed.Add((e, followed.ElapsedMilliseconds));
            }

            return timed;
        }, Token);
        var events = new List<Event>();
        var arrivals = new List<long>();
        string? stateOnOwnerAtFirstOutput = null;
        JsonNode? runningOnB = null;
        long? firstOutputMs = null;
        await foreach (var e in ReadEventsAsync(b, id, nodes.Key, lastEventId: null))
        {
            events.Add(e);
            arrivals.Add(followed.ElapsedMilliseconds);
            if (e.Kind == "stdout" && firstOutputMs is null)
            {
                firstOutputMs = followed.ElapsedMilliseconds;
                stateOnOwnerAtFirstOutput = (string?)(await GetAsync(a, id, nodes.Key))["state"];
                runningOnB = await GetAsync(b, id, nodes.Key);
            }
        }

        var resultMs = followed.ElapsedMilliseconds;

        // How far node-b's stream lags node-a's own: when each line was complete on each (the owner's flush interval is 250 ms).
        var owners = await onOwnersStream;
        var lag = LineArrivals([.. owners.Select(o => o.Event)], [.. owners.Select(o => o.Ms)])
            .Zip(LineArrivals(events, arrivals), (onA, onB) => onB - onA).Order().ToList();
        lag.Count.ShouldBe(10);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"[cross-node events] node-b: first stdout after {firstOutputMs} ms, result after {resultMs} ms, {events.Count} events; " +
            $"line lag behind node-a's stream: p50 {lag[lag.Count / 2]} ms, max {lag[^1]} ms");
        lag[^1].ShouldBeLessThan(3_000, "a follower on another node lags by about a flush and a poll, not by the run");
        stateOnOwnerAtFirstOutput.ShouldBe("running", "the first output reached node-b while node-a still ran the program");
        firstOutputMs.ShouldNotBeNull().ShouldBeLessThan(resultMs - 800, "output arrives as it is printed, not at the end");

        string.Concat(events.Where(e => e.Kind == "stdout").Select(e => e.Text)).ShouldBe(Expected, "the whole stdout, in order, each byte once");
        events.Count(e => e.Kind == "stdout").ShouldBeGreaterThan(2, "several flushes, not one event at the end");
        events[0].Kind.ShouldBe("state");
        events[^1].Kind.ShouldBe("result");
        events.Select(e => e.Id).ShouldBeInOrder(SortDirection.Ascending);
        events.Select(e => e.Id).Distinct().Count().ShouldBe(events.Count);

        // GET of the running run on node-b: the same id, state, creation time and agent as node-a's (its start time is node-a's only).
        var onOwner = await GetAsync(a, id, nodes.Key);
        runningOnB.ShouldNotBeNull();
        ((string?)runningOnB["state"]).ShouldBe("running", runningOnB.ToJsonString());
        ((string?)runningOnB["id"]).ShouldBe(id);
        ((string?)runningOnB["agent"]).ShouldBe((string?)onOwner["agent"]);
        DateTimeOffset.Parse((string)runningOnB["createdAt"]!, CultureInfo.InvariantCulture).ShouldBe(DateTimeOffset.Parse((string)onOwner["createdAt"]!, CultureInfo.InvariantCulture));

        // Once completed, node-b answers the view stored with the end: node-a's own, but for the budgets left, which node-a
        // computes after the end is committed and so keeps in memory only (docs/cluster.md).
        var completedOnB = (JsonObject)await GetAsync(b, id, nodes.Key);
        ((JsonObject)onOwner).Remove("budgets").ShouldBeTrue("the owner answers the budgets left");
        completedOnB.Remove("budgets");
        completedOnB.ToJsonString().ShouldBe(onOwner.ToJsonString());
        var final = events[^1].Data;
        ((string?)final["state"]).ShouldBe("completed");
        ((string?)final["result"]!["status"]).ShouldBe((string?)onOwner["result"]!["status"]);
        ((string?)final["result"]!["status"]).ShouldBe("ok", final.ToJsonString());
        ((int?)final["result"]!["exitCode"]).ShouldBe((int?)onOwner["result"]!["exitCode"]);
        ((string?)final["result"]!["stdout"]).ShouldBe(Expected);

        // The owner's own stream of the same run numbers it the same way: a client may resume on either node.
        owners[^1].Event.Id.ShouldBe(events[^1].Id, "the result's id is the same position on both nodes");
        string.Concat(owners.Where(o => o.Event.Kind == "stdout").Select(o => o.Event.Text)).ShouldBe(Expected);
    }

    [Fact]
    public async Task EventsOnAnotherNode_ResumedWithLastEventId_WhileRunningAndAfterTheEnd_GetExactlyTheRest()
    {
        await using var nodes = await TwoNodesAsync();
        var (a, b) = (nodes.A, nodes.B);
        var id = await SubmitAsync(a, nodes.Key);

        // A client that leaves after its first output event, then comes back with that event's id while the run goes on.
        Event? first = null;
        await foreach (var e in ReadEventsAsync(b, id, nodes.Key, lastEventId: null))
        {
            if (e.Kind == "stdout")
            {
                first = e;
                break;
            }
        }

        first.ShouldNotBeNull();
        var rest = await ReadAllAsync(b, id, nodes.Key, first.Id);
        (first.Text + string.Concat(rest.Where(e => e.Kind == "stdout").Select(e => e.Text))).ShouldBe(Expected, "resumed exactly after what was sent");
        rest.ShouldAllBe(e => e.Id > first.Id);
        rest[^1].Kind.ShouldBe("result");

        // After the end, from the middle of a line: the rest again, from the stored view this time.
        var middle = first.Id + 17;
        var afterEnd = await ReadAllAsync(b, id, nodes.Key, middle);
        var skipped = (int)(middle + 1 - (first.Id - first.Text.Length + 1));
        string.Concat(afterEnd.Where(e => e.Kind == "stdout").Select(e => e.Text)).ShouldBe(Expected[skipped..]);
        afterEnd[^1].Id.ShouldBe(rest[^1].Id);

        // Past the end: the result at once, as on the owner.
        var past = await ReadAllAsync(b, id, nodes.Key, rest[^1].Id).WaitAsync(TimeSpan.FromSeconds(10), Token);
        past.ShouldHaveSingleItem().Kind.ShouldBe("result");
    }

    [Fact]
    public async Task EventsOnAnotherNode_AnotherAgentsRun_Is404LikeAnUnknownOne()
    {
        await using var nodes = await TwoNodesAsync();
        var id = await SubmitAsync(nodes.A, nodes.Key);

        foreach (var (run, key) in new[] { (id, nodes.OtherKey), ("run_00000000000000000000000000", nodes.Key) })
        {
            using var request = Request(HttpMethod.Get, $"/v1/runs/{run}/events", key);
            using var response = await nodes.B.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Token);
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
            response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
        }
    }

    [Fact]
    public async Task SessionOnAnotherNode_IsA404ThatSaysWhere_UntilItCloses_AndAnotherAgentLearnsNothing()
    {
        await using var nodes = await TwoNodesAsync();
        var (a, b) = (nodes.A, nodes.B);
        using var open = Request(HttpMethod.Post, "/v1/sessions", nodes.Key);
        open.Content = JsonContent.Create(new { language = "python" });
        using var opened = await a.Http.SendAsync(open, Token);
        var session = JsonNode.Parse(await opened.Content.ReadAsStringAsync(Token))!;
        opened.StatusCode.ShouldBe(HttpStatusCode.Created, session.ToJsonString());
        var id = (string)session["id"]!;

        (await ProblemAsync(b, HttpMethod.Get, $"/v1/sessions/{id}", nodes.Key)).ShouldBe("session_on_another_node");
        (await ProblemAsync(b, HttpMethod.Post, $"/v1/sessions/{id}/runs", nodes.Key, new { code = "1 + 1" })).ShouldBe("session_on_another_node");
        (await ProblemAsync(b, HttpMethod.Delete, $"/v1/sessions/{id}", nodes.Key)).ShouldBe("session_on_another_node");
        (await ProblemAsync(b, HttpMethod.Get, $"/v1/sessions/{id}", nodes.OtherKey)).ShouldBe("session_not_found", "another agent's session is as unknown as none");
        (await ProblemAsync(b, HttpMethod.Get, "/v1/sessions/ses_00000000000000000000000000", nodes.Key)).ShouldBe("session_not_found");

        using var close = Request(HttpMethod.Delete, $"/v1/sessions/{id}", nodes.Key);
        using (var closed = await a.Http.SendAsync(close, Token))
        {
            closed.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        (await ProblemAsync(b, HttpMethod.Get, $"/v1/sessions/{id}", nodes.Key)).ShouldBe("session_not_found", "closed: nowhere now");
    }

    /// <summary>For each line of stdout, when its newline arrived (the arrival time of the event that carried it).</summary>
    private static List<long> LineArrivals(List<Event> events, List<long> arrivals) =>
        [.. events.Select((e, i) => (e, i)).Where(x => x.e.Kind == "stdout").SelectMany(x => x.e.Text.Where(c => c == '\n').Select(_ => arrivals[x.i]))];

    private static async Task<string?> ProblemAsync(ServeProcess node, HttpMethod method, string path, string key, object? body = null)
    {
        using var request = Request(method, path, key);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await node.Http.SendAsync(request, Token);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!;
        response.StatusCode.ShouldBe(HttpStatusCode.NotFound, problem.ToJsonString());
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
        return (string?)problem["code"];
    }

    private static async Task<string> SubmitAsync(ServeProcess node, string key)
    {
        using var submit = Request(HttpMethod.Post, "/v1/runs", key);
        submit.Content = JsonContent.Create(new { language = "python", backend = "wasm", code = Printer, @async = true });
        using var submitted = await node.Http.SendAsync(submit, Token);
        submitted.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        return (string)JsonNode.Parse(await submitted.Content.ReadAsStringAsync(Token))!["id"]!;
    }

    private static async Task<JsonNode> GetAsync(ServeProcess node, string id, string key)
    {
        using var read = Request(HttpMethod.Get, $"/v1/runs/{id}", key);
        using var response = await node.Http.SendAsync(read, Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!;
    }

    private static async Task<List<Event>> ReadAllAsync(ServeProcess node, string id, string key, long? lastEventId)
    {
        var events = new List<Event>();
        await foreach (var e in ReadEventsAsync(node, id, key, lastEventId))
        {
            events.Add(e);
        }

        return events;
    }

    /// <summary>The stream's events as they arrive, up to the result (or the end of the stream).</summary>
    private static async IAsyncEnumerable<Event> ReadEventsAsync(ServeProcess node, string id, string key, long? lastEventId)
    {
        using var request = Request(HttpMethod.Get, $"/v1/runs/{id}/events", key);
        if (lastEventId is { } last)
        {
            request.Headers.Add("Last-Event-ID", last.ToString(CultureInfo.InvariantCulture));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        using var response = await node.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("text/event-stream");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        long eventId = -1;
        string? kind = null;
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                eventId = long.Parse(line["id: ".Length..], CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                kind = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                var data = JsonNode.Parse(line["data: ".Length..])!;
                yield return new Event(eventId, kind!, kind == "result" ? "" : (string?)data["text"] ?? "", data);
                if (kind == "result")
                {
                    yield break;
                }
            }
        }
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string key)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return request;
    }

    private async Task<TwoNodes> TwoNodesAsync()
    {
        var connectionString = await cluster.CreateDatabaseAsync(Token);
        var key = await SharedStoreNodes.CreateAgentAsync(connectionString, new AgentSpec { Name = "follower", Profiles = ["python-wasm", "python"], RatePerMinute = 600 }, Token);
        var otherKey = await SharedStoreNodes.CreateAgentAsync(connectionString, new AgentSpec { Name = "stranger", Profiles = ["python-wasm", "python"], RatePerMinute = 600 }, Token);

        var nodes = new TwoNodes(key, otherKey, new SharedStoreNodes(connectionString, AdminKey, "cross-events"));
        try
        {
            nodes.Shared.Start("node-a");
            nodes.Shared.Start("node-b");
            foreach (var node in nodes.Processes)
            {
                await node.WaitHealthyAsync(Token);
            }

            // Every run of the test is admitted on node-a: node-b must hold nothing of it in memory.
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(Token);
            await using var count = new NpgsqlCommand("SELECT COUNT(*) FROM nodes", connection);
            Convert.ToInt64(await count.ExecuteScalarAsync(Token), CultureInfo.InvariantCulture).ShouldBe(2);
            return nodes;
        }
        catch
        {
            await nodes.DisposeAsync();
            throw;
        }
    }

    private sealed record Event(long Id, string Kind, string Text, JsonNode Data);

    private sealed class TwoNodes(string key, string otherKey, SharedStoreNodes shared) : IAsyncDisposable
    {
        public string Key { get; } = key;

        public string OtherKey { get; } = otherKey;

        public SharedStoreNodes Shared { get; } = shared;

        public List<ServeProcess> Processes => Shared.Processes;

        public ServeProcess A => Processes[0];

        public ServeProcess B => Processes[1];

        public ValueTask DisposeAsync()
        {
            Shared.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
