using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sandbox.Server.IntegrationTests.Http;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Sessions;

/// <summary>
/// Sessions through a real <c>sandbox serve</c> on the real daemon (idle timeout 4 s): state kept
/// between cells, a cell that exhausts memory restarts its session only, idle sessions closed with their container
/// removed, the agent's own cap answered 429 naming it, revocation ending an agent's sessions, and refusals naming the field.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SessionEndpointsTests(SessionEndpointsTests.ServeFixture serve) : IClassFixture<SessionEndpointsTests.ServeFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Cells_SetThenRead_KeepStateAndEachIsARunAuditedWithTheSession()
    {
        using var agent = await serve.AgentAsync("cells");
        var session = await OpenAsync(agent);
        ((string?)session["state"]).ShouldBe("open");
        var id = (string)session["id"]!;

        var set = await CellAsync(agent, id, "import math\nx = 41");
        ((string?)set["result"]!["status"]).ShouldBe("ok", set.ToJsonString());
        var read = await CellAsync(agent, id, "x + 1");
        ((string?)read["result"]!["stdout"]).ShouldBe("42\n", read.ToJsonString());
        ((string?)read["session"]!["id"]).ShouldBe(id);
        ((bool?)read["session"]!["stateLost"]).ShouldBe(false);
        read["session"]!["notes"]!.AsArray().ShouldBeEmpty();

        // The cell is a run like any other: found by its id, and its receipt names the session.
        var runId = (string)read["id"]!;
        var run = await (await agent.Http.GetAsync($"/v1/runs/{runId}", Token)).JsonAsync();
        ((string?)run["result"]!["stdout"]).ShouldBe("42\n");
        var receipt = ((JsonArray)await serve.Process.Http.AdminGetAsync(ServeFixture.AdminKey, $"/admin/v1/audit?run={runId}&kind=receipt")).ShouldHaveSingleItem()!;
        ((string?)receipt["data"]!["sessionId"]).ShouldBe(id);

        var view = await (await agent.Http.GetAsync($"/v1/sessions/{id}", Token)).JsonAsync();
        ((int)view["cells"]!).ShouldBe(2);
        await CloseAsync(agent, id);
    }

    [Fact]
    public async Task Cell_ExhaustsMemory_RestartsItsSessionOnlyAndSaysSo()
    {
        using var agent = await serve.AgentAsync("oom");
        var hungry = (string)(await OpenAsync(agent))["id"]!;
        var bystander = (string)(await OpenAsync(agent))["id"]!;
        await CellAsync(agent, hungry, "z = 1");
        await CellAsync(agent, bystander, "kept = 'yes'");

        var oom = await CellAsync(agent, hungry, "b = b'x' * (1024 * 1024 * 1024)");
        ((string?)oom["result"]!["status"]).ShouldBe("memory_limit", oom.ToJsonString());
        ((bool?)oom["session"]!["stateLost"]).ShouldBe(true);
        ((string?)oom["result"]!["message"]).ShouldNotBeNull().ShouldContain("state");

        var after = await CellAsync(agent, hungry, "print('z' in globals())");
        ((string?)after["result"]!["stdout"]).ShouldBe("False\n");
        after["session"]!["notes"]!.AsArray().Select(n => (string?)n).ShouldBe(["session_restarted"]);
        ((int)(await (await agent.Http.GetAsync($"/v1/sessions/{hungry}", Token)).JsonAsync())["restarts"]!).ShouldBe(1);

        var untouched = await CellAsync(agent, bystander, "print(kept)");
        ((string?)untouched["result"]!["stdout"]).ShouldBe("yes\n");
        untouched["session"]!["notes"]!.AsArray().ShouldBeEmpty();
        await CloseAsync(agent, hungry);
        await CloseAsync(agent, bystander);
    }

    [Fact]
    public async Task Session_IdlePastItsTimeout_IsClosedAndItsContainerRemoved()
    {
        using var agent = await serve.AgentAsync("idle");
        var id = (string)(await OpenAsync(agent))["id"]!;
        (await DockerProbe.ContainersOfRunAsync(id)).ShouldNotBeEmpty();

        var watch = Stopwatch.StartNew();
        JsonNode view;
        do
        {
            watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(20), "the session should have closed 4 s after its last use");
            await Task.Delay(250, Token);
            view = await (await agent.Http.GetAsync($"/v1/sessions/{id}", Token)).JsonAsync();
        }
        while ((string?)view["state"] == "open");

        ((string?)view["closedReason"]).ShouldNotBeNull().ShouldContain("idle");
        (await DockerProbe.ContainersOfRunAsync(id)).ShouldBeEmpty("an idle session's container is removed when it closes");
        using var late = await PostCellAsync(agent, id, "print(1)");
        late.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await late.JsonAsync())["code"]!.GetValue<string>().ShouldBe("session_closed");
    }

    /// <summary>
    /// Attack: open and close sessions in a loop. Each open makes a container and each close removes one, the daemon's work
    /// every run waits on; an agent capped at 10 runs a minute opened and closed 353 sessions a minute, its rate untouched.
    /// Expected: an open counts against the agent's rate like a run, and past it is a 429 rate_per_minute; so are its runs.
    /// </summary>
    [Fact]
    public async Task OpenAndClose_InALoop_IsHeldToTheAgentsRate()
    {
        using var agent = await serve.AgentAsync("open-loop", ratePerMinute: 3);
        for (var i = 0; i < 3; i++)
        {
            await CloseAsync(agent, (string)(await OpenAsync(agent))["id"]!);
        }

        using var fourth = await agent.Http.PostAsync("/v1/sessions", JsonContent.Create(new { language = "python" }), Token);
        var problem = await fourth.JsonAsync();
        fourth.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests, problem.ToJsonString());
        ((string?)problem["cap"]).ShouldBe("rate_per_minute");
        fourth.Headers.Contains("Retry-After").ShouldBeTrue();
        using var run = await agent.Http.PostAsync("/v1/runs", JsonContent.Create(new { language = "python", code = "print(1)" }), Token);
        run.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests, "the opens used the minute's rate: " + await run.Content.ReadAsStringAsync(Token));
    }

    [Fact]
    public async Task Open_FiftyAtOnceByOneAgent_StopAtTheCapWith429NamingIt_WithinItsRate()
    {
        // The cap is the agent's own budget, set by the operator below the default of 4 (and within its memory budget).
        const int MaxOpen = 3;
        using var agent = await serve.AgentAsync("cap", maxOpenSessions: MaxOpen);
        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            using var response = await agent.Http.PostAsync("/v1/sessions", JsonContent.Create(new { language = "python" }), Token);
            return (response.StatusCode, Body: await response.JsonAsync());
        }));

        var opened = answers.Where(a => a.StatusCode == HttpStatusCode.Created).ToList();
        opened.Count.ShouldBe(MaxOpen);
        var refused = answers.Where(a => a.StatusCode != HttpStatusCode.Created).ToList();
        refused.Count.ShouldBe(50 - MaxOpen);
        refused.ShouldAllBe(a => a.StatusCode == HttpStatusCode.TooManyRequests);
        refused.ShouldAllBe(a => (string?)a.Body["code"] == "cap_exceeded" && (string?)a.Body["cap"] == "open_sessions");
        refused.ShouldAllBe(a => ((string?)a.Body["detail"] ?? "").Contains($"maxOpenSessions of {MaxOpen}", StringComparison.Ordinal));

        // The agent's view shows the budget the operator set.
        var shown = await serve.Process.Http.AdminGetAsync(ServeFixture.AdminKey, $"/admin/v1/agents/{agent.Id}");
        shown.ToJsonString().ShouldContain("\"maxOpenSessions\":3");

        foreach (var (_, body) in opened)
        {
            await CloseAsync(agent, (string)body["id"]!);
            (await DockerProbe.ContainersOfRunAsync((string)body["id"]!)).ShouldBeEmpty();
        }

        (await agent.Http.PostAsync("/v1/sessions", JsonContent.Create(new { language = "python" }), Token)).StatusCode.ShouldBe(HttpStatusCode.Created, "closing frees the cap");
    }

    [Fact]
    public async Task Open_PastTheAgentsSessionMemory_Is429NamingItAndClosingOneFreesIt()
    {
        // Two python sessions of 256 MiB fit in 600 MiB and a third does not, below the default count cap of 4: memory refuses it.
        using var agent = await serve.AgentAsync("memory", maxSessionMemoryMb: 600);
        var first = (string)(await OpenAsync(agent))["id"]!;
        var second = (string)(await OpenAsync(agent))["id"]!;

        using (var third = await agent.Http.PostAsync("/v1/sessions", JsonContent.Create(new { language = "python" }), Token))
        {
            var problem = await third.JsonAsync();
            third.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests, problem.ToJsonString());
            third.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            ((string?)problem["code"]).ShouldBe("cap_exceeded");
            ((string?)problem["cap"]).ShouldBe("session_memory_mb");
            ((string?)problem["detail"]).ShouldNotBeNull().ShouldContain("maxSessionMemoryMb of 600");
        }

        // The agent's view shows the budget the operator set.
        var shown = await serve.Process.Http.AdminGetAsync(ServeFixture.AdminKey, $"/admin/v1/agents/{agent.Id}");
        shown.ToJsonString().ShouldContain("\"maxSessionMemoryMb\":600");

        await CloseAsync(agent, first);
        var again = (string)(await OpenAsync(agent))["id"]!;
        await CloseAsync(agent, second);
        await CloseAsync(agent, again);
    }

    [Fact]
    public async Task OpenAndClose_AreAuditedWithProfileLimitsAndCause_ChainIntact()
    {
        using var agent = await serve.AgentAsync("audited");
        var deleted = (string)(await OpenAsync(agent))["id"]!;
        var idled = (string)(await OpenAsync(agent))["id"]!;
        await CellAsync(agent, deleted, "x = 1");
        await CloseAsync(agent, deleted);

        var opened = await SessionRecordAsync(deleted, "opened");
        ((string?)opened["agentId"]).ShouldBe(agent.Id);
        ((string?)opened["data"]!["profile"]).ShouldBe("python");
        ((long)opened["data"]!["limits"]!["memoryBytes"]!).ShouldBe(256L * 1024 * 1024);
        ((string?)opened["data"]!["imageDigest"]).ShouldNotBeNull().ShouldStartWith("sha256:");
        var closed = await SessionRecordAsync(deleted, "closed");
        ((string?)closed["data"]!["cause"]).ShouldBe("deleted");
        ((int)closed["data"]!["cells"]!).ShouldBe(1);

        // Idle past its timeout (4 s here): closed by the sweeper, with that cause.
        var watch = Stopwatch.StartNew();
        JsonNode? idleClose;
        while ((idleClose = await SessionRecordOrNullAsync(idled, "closed")) is null)
        {
            watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(20), "the idle session's close should be recorded");
            await Task.Delay(250, Token);
        }

        ((string?)idleClose["data"]!["cause"]).ShouldBe("idle_timeout");
        var verify = await serve.Process.Http.AdminGetAsync(ServeFixture.AdminKey, "/admin/v1/audit/verify");
        ((bool)verify["intact"]!).ShouldBeTrue(verify.ToJsonString());
    }

    /// <summary>
    /// Attack: a cell starts three busy processes in the background and returns. It answered <c>ok</c> with 18 ms of CPU,
    /// and they ran on at the container's full CPU between cells, charged to no cell and no budget, until the session's
    /// idle timeout (10 minutes by default; with a cheap cell every few minutes, its hour's lifetime), taking the CPU
    /// other runs need. Expected: the session is closed (<c>idle_cpu</c>, audited) once its kernel has used the
    /// allowance between cells (200 ms here), so before its idle timeout (4 s here), and its container is gone; a quiet
    /// session opened beside it is left alone.
    /// </summary>
    [Fact]
    public async Task BackgroundWorkLeftByACell_ClosesTheSessionPastItsIdleCpu_AndAQuietOneStaysOpen()
    {
        using var agent = await serve.AgentAsync("idle-cpu");
        var busy = (string)(await OpenAsync(agent))["id"]!;
        var quiet = (string)(await OpenAsync(agent))["id"]!;
        await CellAsync(agent, quiet, "x = 1");

        var cell = await CellAsync(agent, busy, "import subprocess\nfor _ in range(3):\n    subprocess.Popen(['python3', '-c', 'while True: pass'], start_new_session=True)\nprint('started')");
        var answered = Stopwatch.StartNew();

        ((string?)cell["result"]!["status"]).ShouldBe("ok", cell.ToJsonString());
        JsonNode? closed;
        while ((closed = await SessionRecordOrNullAsync(busy, "closed")) is null)
        {
            answered.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(10), "the busy session's close should be recorded");
            await Task.Delay(100, Token);
        }

        // The cause says it was closed on its CPU, before its 4 s idle timeout (which closed it on the build before).
        ((string?)closed["data"]!["cause"]).ShouldBe("idle_cpu", $"{closed.ToJsonString()}, {answered.Elapsed.TotalMilliseconds:0} ms after the cell's answer");
        ((string?)closed["data"]!["reason"]).ShouldNotBeNull().ShouldContain("IdleCpuMs");
        // And that CPU is the agent's: charged to its daily budget at the close, as a next cell's budgets show.
        var idleCpuMs = (long)closed["data"]!["idleCpuMs"]!;
        idleCpuMs.ShouldBeGreaterThan(200, closed.ToJsonString());
        var again = (string)(await OpenAsync(agent))["id"]!;
        var after = await CellAsync(agent, again, "pass");
        var (usedAfter, usedBefore) = (await CpuUsedAsync(agent, after), await CpuUsedAsync(agent, cell));
        (usedAfter - usedBefore).ShouldBeGreaterThanOrEqualTo(idleCpuMs / 1000.0 - 0.002, $"the busy session's {idleCpuMs} ms between cells");
        await CloseAsync(agent, again);
        // A quiet session is not closed for the other's work (its own idle timeout may close it, under a slow machine).
        ((string?)(await SessionRecordOrNullAsync(quiet, "closed"))?["data"]?["cause"]).ShouldNotBe("idle_cpu");
        (await DockerProbe.ContainersOfRunAsync(busy)).ShouldBeEmpty("its container, and the busy processes in it, are gone");
        using var next = await PostCellAsync(agent, busy, "print(1)");
        next.StatusCode.ShouldBe(HttpStatusCode.Conflict, await next.Content.ReadAsStringAsync(Token));
        if (await SessionRecordOrNullAsync(quiet, "closed") is null)
        {
            await CloseAsync(agent, quiet);
        }
    }

    [Fact]
    public async Task Revoke_AgentWithSessions_EndsThemAndRemovesTheirContainers()
    {
        using var agent = await serve.AgentAsync("revoked");
        var first = (string)(await OpenAsync(agent))["id"]!;
        var second = (string)(await OpenAsync(agent))["id"]!;
        await CellAsync(agent, first, "secret = 1");

        using var revoke = new HttpRequestMessage(HttpMethod.Post, $"/admin/v1/agents/{agent.Id}/revoke") { Content = JsonContent.Create(new { reason = "leaked", by = "test" }) };
        revoke.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ServeFixture.AdminKey);
        (await serve.Process.Http.SendAsync(revoke, Token)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var watch = Stopwatch.StartNew();
        while ((await DockerProbe.ContainersOfRunAsync(first)).Length + (await DockerProbe.ContainersOfRunAsync(second)).Length > 0)
        {
            watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5), "a revoked agent's sessions end within seconds");
            await Task.Delay(100, Token);
        }

        (await agent.Http.GetAsync($"/v1/sessions/{first}", Token)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        foreach (var id in new[] { first, second })
        {
            ((string?)(await SessionRecordAsync(id, "closed"))["data"]!["cause"]).ShouldBe("revoked");
        }
    }

    [Theory]
    [InlineData("{\"language\": \"python\", \"profile\": \"python-wasm\"}", "profile")]
    [InlineData("{\"language\": \"c\"}", "language")]
    [InlineData("{\"language\": \"python\", \"bogus\": 1}", "bogus")]
    public async Task Open_NoSessionForIt_IsRefusedNamingTheField(string body, string field)
    {
        using var agent = await serve.AgentAsync("refused");
        using var response = await agent.Http.PostAsync("/v1/sessions", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Token);
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = await response.JsonAsync();
        problem["errors"]!.AsArray().Select(e => (string?)e!["field"]).ShouldContain(field, problem.ToJsonString());
    }

    [Fact]
    public async Task Cell_AsksForAnotherMemoryLimitOrLanguage_IsRefusedNamingTheField()
    {
        using var agent = await serve.AgentAsync("cell-fields");
        var id = (string)(await OpenAsync(agent))["id"]!;
        using var memory = await agent.Http.PostAsync($"/v1/sessions/{id}/runs", JsonContent.Create(new { language = "python", code = "1", limits = new { memoryBytes = 64L * 1024 * 1024 } }), Token);
        memory.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await memory.JsonAsync())["errors"]!.AsArray().Select(e => (string?)e!["field"]).ShouldBe(["limits.memoryBytes"]);
        using var language = await agent.Http.PostAsync($"/v1/sessions/{id}/runs", JsonContent.Create(new { language = "bash", code = "echo" }), Token);
        (await language.JsonAsync())["errors"]!.AsArray().Select(e => (string?)e!["field"]).ShouldBe(["language"]);
        using var other = await serve.AgentAsync("cell-fields-other");
        (await other.Http.GetAsync($"/v1/sessions/{id}", Token)).StatusCode.ShouldBe(HttpStatusCode.NotFound, "another agent's session is unknown to it");
        await CloseAsync(agent, id);
    }

    [Fact]
    public async Task Cell_WarmXPlusOne_MeasuredThroughServe()
    {
        using var agent = await serve.AgentAsync("latency");
        var id = (string)(await OpenAsync(agent))["id"]!;
        await CellAsync(agent, id, "x = 1");
        var times = new List<double>();
        for (var i = 0; i < 30; i++)
        {
            var watch = Stopwatch.StartNew();
            var cell = await CellAsync(agent, id, "x + 1");
            times.Add(watch.Elapsed.TotalMilliseconds);
            ((string?)cell["result"]!["stdout"]).ShouldBe("2\n");
        }

        times.Sort();
        TestContext.Current.TestOutputHelper!.WriteLine($"[session latency] warm cell x+1 through serve: p50 {times[times.Count / 2]:0.0} ms, p90 {times[times.Count * 9 / 10]:0.0} ms over {times.Count}");
        times[times.Count / 2].ShouldBeLessThan(1000);
        await CloseAsync(agent, id);
    }

    [Fact]
    public async Task Cell_WhileAnotherRuns_Is409BusyAndDeleteKillsTheRunningOne()
    {
        using var agent = await serve.AgentAsync("busy");
        var id = (string)(await OpenAsync(agent))["id"]!;
        var sleeping = PostCellAsync(agent, id, "import time\ntime.sleep(30)");
        var watch = Stopwatch.StartNew();
        while ((bool?)(await (await agent.Http.GetAsync($"/v1/sessions/{id}", Token)).JsonAsync())["busy"] != true)
        {
            watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(10), "the first cell should be running");
            await Task.Delay(50, Token);
        }

        // Busy from admission on; a moment more and the cell is surely sleeping in the interpreter, not still on its way.
        await Task.Delay(1000, Token);
        using (var second = await PostCellAsync(agent, id, "print(1)"))
        {
            second.StatusCode.ShouldBe(HttpStatusCode.Conflict);
            (await second.JsonAsync())["code"]!.GetValue<string>().ShouldBe("session_busy");
        }

        watch.Restart();
        await CloseAsync(agent, id);
        using var killed = await sleeping;
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(10), "DELETE kills the running cell, it does not wait for it");
        var body = await killed.JsonAsync();
        ((string?)body["result"]!["status"]).ShouldBe("cancelled", body.ToJsonString());
        ((bool?)body["session"]!["stateLost"]).ShouldBe(true);
    }

    [Fact]
    public async Task Loop_UploadACsvLoadItThenPlotWithoutRereading_ReturnsThePngAndACsvToDownload()
    {
        using var agent = await serve.AgentAsync("loop");
        var id = (string)(await OpenAsync(agent))["id"]!;

        // Cell 1: the file goes in, pandas loads it into the session.
        using (var load = await agent.Http.PostAsync($"/v1/sessions/{id}/runs", JsonContent.Create(new
        {
            language = "python",
            code = "import pandas as pd\ndf = pd.read_csv('/tmp/data.csv')\nlen(df)",
            files = new[] { new { path = "data.csv", content = LoopCsv } },
        }), Token))
        {
            var loaded = await load.JsonAsync();
            load.StatusCode.ShouldBe(HttpStatusCode.OK, loaded.ToJsonString());
            ((string?)loaded["result"]!["stdout"]).ShouldBe("4\n", loaded.ToJsonString());
        }

        // Cell 2: the file is gone, so the plot can only come from the data frame the session kept.
        var plot = await CellAsync(agent, id, "import os\nos.remove('/tmp/data.csv')\nimport matplotlib.pyplot as plt\ndf.plot(x='x', y='y')\ndf.assign(z=df.y * 2).to_csv('/tmp/outputs/doubled.csv', index=False)");
        ((string?)plot["result"]!["status"]).ShouldBe("ok", plot.ToJsonString());
        var artifacts = plot["result"]!["artifacts"]!.AsArray();
        artifacts.Select(a => (string?)a!["path"]).Order(StringComparer.Ordinal).ToList().ShouldBe(["doubled.csv", "figure-1.png"], customMessage: plot.ToJsonString());
        var runId = (string)plot["id"]!;

        var png = await agent.Http.GetByteArrayAsync($"/v1/runs/{runId}/artifacts/figure-1.png", Token);
        png.AsSpan(0, 8).ToArray().ShouldBe(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A });
        (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)))
            .ShouldBe((640, 480), "matplotlib's default figure, 6.4 x 4.8 in at 100 dpi");
        png.Length.ShouldBe((int)artifacts.Single(a => (string?)a!["path"] == "figure-1.png")!["sizeBytes"]!);

        var csv = await agent.Http.GetByteArrayAsync($"/v1/runs/{runId}/artifacts/doubled.csv", Token);
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(csv)).ShouldBe((string)artifacts.Single(a => (string?)a!["path"] == "doubled.csv")!["sha256"]!);
        System.Text.Encoding.UTF8.GetString(csv).ShouldBe("x,y,z\n1,1,2\n2,4,8\n3,9,18\n4,16,32\n");

        // Each file comes back with the cell that left it: the next cell hands out nothing.
        var next = await CellAsync(agent, id, "df.y.sum()");
        ((string?)next["result"]!["stdout"]).ShouldBe("30\n", next.ToJsonString());
        next["result"]!["artifacts"].ShouldBeNull(next.ToJsonString());
        await CloseAsync(agent, id);
    }

    [Fact]
    public async Task McpRemote_SessionTools_GoToTheServicesSessions()
    {
        using var agent = await serve.AgentAsync("mcp-remote");
        await using var mcp = Mcp.McpProcess.StartRemote(serve.Process.Http.BaseAddress!, agent.Key);
        await mcp.InitializeAsync(Token);
        var opened = await mcp.CallToolAsync("open_session", new JsonObject { ["language"] = "python" }, Token);
        var id = (string?)opened["structuredContent"]!["id"];
        id.ShouldNotBeNull(opened.ToJsonString());
        await mcp.CallToolAsync("run_code", new JsonObject { ["language"] = "python", ["code"] = "y = 'kept'", ["session"] = id }, Token);
        var read = await mcp.CallToolAsync("run_code", new JsonObject { ["language"] = "python", ["code"] = "y", ["session"] = id }, Token);
        ((string?)read["structuredContent"]!["stdout"]).ShouldBe("'kept'\n", read.ToJsonString());
        var closed = await mcp.CallToolAsync("close_session", new JsonObject { ["session"] = id }, Token);
        ((string?)closed["structuredContent"]!["state"]).ShouldBe("closed", closed.ToJsonString());
        (await DockerProbe.ContainersOfRunAsync(id)).ShouldBeEmpty();
    }

    /// <summary>The data the loop tests upload: four points of y = x².</summary>
    internal const string LoopCsv = "x,y\n1,1\n2,4\n3,9\n4,16\n";

    private static async Task<JsonNode> OpenAsync(ServeFixture.Agent agent)
    {
        using var response = await agent.Http.PostAsync("/v1/sessions", JsonContent.Create(new { language = "python" }), Token);
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToJsonString());
        return body;
    }

    private async Task<JsonNode> SessionRecordAsync(string id, string status) =>
        (await SessionRecordOrNullAsync(id, status)).ShouldNotBeNull($"no '{status}' audit record for session {id}");

    private async Task<JsonNode?> SessionRecordOrNullAsync(string id, string status)
    {
        var records = (JsonArray)await serve.Process.Http.AdminGetAsync(ServeFixture.AdminKey, $"/admin/v1/audit?run={id}&kind=session&status={status}");
        records.Count.ShouldBeLessThanOrEqualTo(1, $"one '{status}' record per session: {records.ToJsonString()}");
        return records.SingleOrDefault();
    }

    private static Task<HttpResponseMessage> PostCellAsync(ServeFixture.Agent agent, string id, string code) =>
        agent.Http.PostAsync($"/v1/sessions/{id}/runs", JsonContent.Create(new { language = "python", code }), Token);

    /// <summary>The agent's daily CPU used as the cell's run saw it at its end (<c>GET /v1/runs/{id}</c>'s budgets).</summary>
    private static async Task<double> CpuUsedAsync(ServeFixture.Agent agent, JsonNode cell)
    {
        using var response = await agent.Http.GetAsync($"/v1/runs/{(string)cell["id"]!}", Token);
        var run = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, run.ToJsonString());
        return (double)run["budgets"].ShouldNotBeNull(run.ToJsonString()).AsArray().Single(b => (string?)b!["name"] == "daily_cpu_seconds")!["used"]!;
    }

    private static async Task<JsonNode> CellAsync(ServeFixture.Agent agent, string id, string code)
    {
        using var response = await PostCellAsync(agent, id, code);
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToJsonString());
        return body;
    }

    private static async Task CloseAsync(ServeFixture.Agent agent, string id)
    {
        using var response = await agent.Http.DeleteAsync($"/v1/sessions/{id}", Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        ((string?)(await response.JsonAsync())["state"]).ShouldBe("closed");
        (await DockerProbe.ContainersOfRunAsync(id)).ShouldBeEmpty("DELETE answers once the container is gone");
    }

    /// <summary>One real <c>sandbox serve</c> for the class, with short session settings, and agents made through its admin API.</summary>
    public sealed class ServeFixture : IAsyncLifetime
    {
        public const string AdminKey = SandboxApiFactory.AdminKey;
        private static readonly string[] s_profiles = ["python", "python-wasm", "javascript", "javascript-wasm", "bash", "c", "csharp"];
        private readonly string _data = Path.Join(Path.GetTempPath(), "sandbox-sessions-" + Guid.NewGuid().ToString("N"));

        internal ServeProcess Process { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            Process = ServeProcess.Start(_data, AdminKey, environment: new Dictionary<string, string>
            {
                ["Sandbox__Sessions__IdleTimeout"] = "00:00:04",
                ["Sandbox__Sessions__SweepInterval"] = "00:00:00.200",
                ["Sandbox__Sessions__IdleCpuMs"] = "200",
                // No warm pool: the sessions' containers are the only ones this service makes.
                ["Sandbox__WarmPool__Sizes__python"] = "0",
            });
            await Process.WaitHealthyAsync(TestContext.Current.CancellationToken);
        }

        public async Task<Agent> AgentAsync(string name, int? maxSessionMemoryMb = null, int? maxOpenSessions = null, int? ratePerMinute = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/agents")
            {
                Content = JsonContent.Create(new { name = name + "-" + Guid.NewGuid().ToString("N")[..8], profiles = s_profiles, maxSessionMemoryMb, maxOpenSessions, ratePerMinute }),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
            using var response = await Process.Http.SendAsync(request, TestContext.Current.CancellationToken);
            var body = await response.JsonAsync();
            response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToJsonString());
            var http = new HttpClient { BaseAddress = Process.Http.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)body["key"]!);
            return new Agent((string)body["agent"]!["id"]!, http, (string)body["key"]!);
        }

        public async ValueTask DisposeAsync()
        {
            Process.Dispose();
            await Task.Delay(0);
            try
            {
                Directory.Delete(_data, recursive: true);
            }
            catch (IOException)
            {
                // A log file still being closed; the temporary folder is cleaned up with the machine.
            }
        }

        public sealed record Agent(string Id, HttpClient Http, string Key) : IDisposable
        {
            public void Dispose() => Http.Dispose();
        }
    }
}
