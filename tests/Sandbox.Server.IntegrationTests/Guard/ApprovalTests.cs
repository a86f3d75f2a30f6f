using System.Net;
using System.Text.Json.Nodes;
using Sandbox.Server.IntegrationTests.Http;
using Sandbox.Server.IntegrationTests.Support;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Guard;

/// <summary>
/// Runs that wait for a human: an agent on hold, or a profile that requires approval, answers 202
/// <c>pending_approval</c>; an operator approves (it runs), denies (rejected) or lets it expire (rejected).
/// </summary>
[Trait("Category", "Integration")]
public sealed class ApprovalTests : IClassFixture<SandboxApiFactory>
{
    private readonly SandboxApiFactory _factory;

    public ApprovalTests(SandboxApiFactory factory) => _factory = factory;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task HeldAgent_RunWaits_ThenApproved_RunsAndIsAuditedInOrder()
    {
        var (issued, agent) = await _factory.AgentAsync(Some.Agent("approve-ok"));
        await HoldAsync(_factory, issued.Agent.Id);
        const string Code = "echo approved-output";

        var (runId, approvalId) = await SubmitPendingAsync(agent, Code);

        var shown = await (await agent.GetAsync($"/v1/runs/{runId}", Token)).JsonAsync();
        ((string?)shown["state"]).ShouldBe("pending_approval");
        ((string?)shown["approval"]!["state"]).ShouldBe("pending");
        var listed = await PendingApprovalsAsync(_factory);
        var approval = listed.Single(a => (string?)a!["id"] == approvalId)!;
        ((string?)approval["code"]).ShouldBe(Code);
        ((string?)approval["runId"]).ShouldBe(runId);
        ((string?)approval["agent"]).ShouldBe(issued.Agent.Name);

        using var approved = await _factory.AdminPostAsync($"/admin/v1/approvals/{approvalId}/approve", new { by = "alice" });
        approved.StatusCode.ShouldBe(HttpStatusCode.OK);
        ((string?)(await approved.JsonAsync())["state"]).ShouldBe("approved");

        var done = await agent.WaitForStateAsync(runId, "completed", TimeSpan.FromSeconds(30));
        ((string?)done["result"]!["status"]).ShouldBe("ok");
        ((string?)done["result"]!["stdout"]).ShouldBe("approved-output\n");
        ((string?)done["approval"]!["state"]).ShouldBe("approved");
        var records = await _factory.AuditOfRunAsync(runId);
        records.Select(r => $"{r!["kind"]} {r["status"]}").ShouldBe(["request received", "decision pending", "approval approved", "receipt planned", "result ok"]);
        ((string?)records[2]!["data"]!["by"]).ShouldBe("admin:alice");
        ((string?)records[3]!["data"]!["approvalId"]).ShouldBe(approvalId);
        await _factory.ShouldBeIntactAsync();
    }

    [Fact]
    public async Task HeldAgent_ApprovingSeveralRuns_KeepsTheConcurrencyCap()
    {
        // Pending runs hold no slot, so approving three at once used to start all three past a cap of one.
        var (issued, agent) = await _factory.AgentAsync(Some.Agent("approve-cap") with { MaxConcurrentRuns = 1 });
        await HoldAsync(_factory, issued.Agent.Id);
        var pending = new List<(string RunId, string ApprovalId)>();
        for (var i = 0; i < 3; i++)
        {
            pending.Add(await SubmitPendingAsync(agent, $"sleep 1; echo run-{i}"));
        }

        foreach (var (_, approvalId) in pending)
        {
            using var approved = await _factory.AdminPostAsync($"/admin/v1/approvals/{approvalId}/approve", new { by = "alice" });
            approved.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        // Right after the approvals: one runs (or is about to), the other two wait as queued, approved.
        var states = new List<JsonNode>();
        foreach (var (runId, _) in pending)
        {
            states.Add(await (await agent.GetAsync($"/v1/runs/{runId}", Token)).JsonAsync());
        }

        states.Count(v => (string?)v["state"] is "queued" or "running").ShouldBe(3);
        states.ShouldAllBe(v => (string?)v["approval"]!["state"] == "approved");

        var done = new List<JsonNode>();
        for (var i = 0; i < pending.Count; i++)
        {
            var view = await agent.WaitForStateAsync(pending[i].RunId, "completed", TimeSpan.FromSeconds(60));
            ((string?)view["result"]!["status"]).ShouldBe("ok");
            ((string?)view["result"]!["stdout"]).ShouldBe($"run-{i}\n");
            done.Add(view);
        }

        // At most one at a time, in the order they were submitted.
        var spans = done.Select(v => (Start: (DateTimeOffset)v["startedAt"]!, End: (DateTimeOffset)v["completedAt"]!)).ToList();
        for (var i = 1; i < spans.Count; i++)
        {
            spans[i].Start.ShouldBeGreaterThanOrEqualTo(spans[i - 1].End, $"run {i} started before run {i - 1} ended: the cap of 1 was exceeded");
        }

        foreach (var (runId, approvalId) in pending)
        {
            var records = await _factory.AuditOfRunAsync(runId);
            records.Select(r => $"{r!["kind"]} {r["status"]}").ShouldBe(["request received", "decision pending", "approval approved", "receipt planned", "result ok"]);
        }

        await _factory.ShouldBeIntactAsync();
    }

    [Fact]
    public async Task ApprovedRunWaitingForASlot_IsNotOvertakenByANewRun()
    {
        // Cap 1: A runs, B is approved and waits. The hold is lifted, so a new run C is not held; when A ends,
        // C must not take the slot B waits for (before the watcher's next tick hands it to B).
        var (issued, agent) = await _factory.AgentAsync(Some.Agent("approve-cap-order") with { MaxConcurrentRuns = 1 });
        await HoldAsync(_factory, issued.Agent.Id);
        var a = await SubmitPendingAsync(agent, "sleep 1; echo a");
        var b = await SubmitPendingAsync(agent, "echo b");
        foreach (var approvalId in new[] { a.ApprovalId, b.ApprovalId })
        {
            (await _factory.AdminPostAsync($"/admin/v1/approvals/{approvalId}/approve", new { by = "alice" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var admin = _factory.AdminClient())
        {
            (await admin.DeleteAsync($"/admin/v1/agents/{issued.Agent.Id}/hold", Token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        ((string?)(await (await agent.GetAsync($"/v1/runs/{b.RunId}", Token)).JsonAsync())["state"]).ShouldBe("queued");
        await agent.WaitForStateAsync(a.RunId, "completed", TimeSpan.FromSeconds(30));

        using var c = await agent.PostRunAsync(Some.BashAsync("echo c"));

        c.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests, "B was approved first and waits for the slot");
        ((string?)(await c.JsonAsync())["cap"]).ShouldBe("concurrent_runs");
        var done = await agent.WaitForStateAsync(b.RunId, "completed", TimeSpan.FromSeconds(30));
        ((string?)done["result"]!["stdout"]).ShouldBe("b\n");
    }

    [Fact]
    public async Task HeldAgent_ApprovedRunWaitingForASlot_CanBeCancelled()
    {
        var (issued, agent) = await _factory.AgentAsync(Some.Agent("approve-cap-cancel") with { MaxConcurrentRuns = 1 });
        await HoldAsync(_factory, issued.Agent.Id);
        var first = await SubmitPendingAsync(agent, "sleep 30");
        var second = await SubmitPendingAsync(agent, "echo never");
        foreach (var approvalId in new[] { first.ApprovalId, second.ApprovalId })
        {
            (await _factory.AdminPostAsync($"/admin/v1/approvals/{approvalId}/approve", new { by = "alice" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        await agent.WaitForStateAsync(first.RunId, "running", TimeSpan.FromSeconds(30));
        ((string?)(await (await agent.GetAsync($"/v1/runs/{second.RunId}", Token)).JsonAsync())["state"]).ShouldBe("queued");

        (await agent.DeleteAsync($"/v1/runs/{second.RunId}", Token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await agent.DeleteAsync($"/v1/runs/{first.RunId}", Token)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var cancelled = await agent.WaitForStateAsync(second.RunId, "completed", TimeSpan.FromSeconds(30));
        ((string?)cancelled["result"]!["status"]).ShouldBe("cancelled");
        cancelled["startedAt"].ShouldBeNull("it never got a slot, so it never started");
        (await _factory.AuditOfRunAsync(second.RunId)).Select(r => $"{r!["kind"]} {r["status"]}")
            .ShouldBe(["request received", "decision pending", "approval approved", "result cancelled"]);
    }

    [Fact]
    public async Task HeldAgent_ApprovedRun_IsStillCutAtWhatRemainsOfTheCpuBudget()
    {
        var (issued, agent) = await _factory.AgentAsync(Some.Agent("approve-cpu") with { DailyCpuSeconds = 0.2 });
        await HoldAsync(_factory, issued.Agent.Id);
        var (runId, approvalId) = await SubmitPendingAsync(agent, Some.BurnCpu);

        using var approved = await _factory.AdminPostAsync($"/admin/v1/approvals/{approvalId}/approve", new { by = "alice" });

        approved.StatusCode.ShouldBe(HttpStatusCode.OK);
        var done = await agent.WaitForStateAsync(runId, "completed", TimeSpan.FromSeconds(30));
        ((string?)done["result"]!["status"]).ShouldBe("cpu_limit");
        ((long)done["result"]!["limits"]!["cpuTimeMs"]!).ShouldBeLessThanOrEqualTo(200, "an approval lets the run start; it does not lift the agent's CPU budget");
        var receipt = (await _factory.AuditOfRunAsync(runId)).Single(r => (string?)r!["kind"] == "receipt")!;
        ((long)receipt["data"]!["limits"]!["cpuTimeMs"]!).ShouldBeLessThanOrEqualTo(200);
    }

    [Fact]
    public async Task HeldAgent_RunDenied_CompletesRejectedWithTheNote()
    {
        var (issued, agent) = await _factory.AgentAsync(Some.Agent("approve-deny"));
        await HoldAsync(_factory, issued.Agent.Id);
        var (runId, approvalId) = await SubmitPendingAsync(agent, "echo never");

        using var denied = await _factory.AdminPostAsync($"/admin/v1/approvals/{approvalId}/deny", new { by = "bob", note = "touches production data" });
        denied.StatusCode.ShouldBe(HttpStatusCode.OK);

        var done = await agent.WaitForStateAsync(runId, "completed", TimeSpan.FromSeconds(10));
        ((string?)done["state"]).ShouldBe("completed");
        ((string?)done["result"]!["status"]).ShouldBe("rejected");
        ((string)done["result"]!["message"]!).ShouldContain("touches production data");
        ((string?)done["approval"]!["state"]).ShouldBe("denied");
        var records = await _factory.AuditOfRunAsync(runId);
        records.Select(r => $"{r!["kind"]} {r["status"]}").ShouldBe(["request received", "decision pending", "approval denied", "result rejected"], "no receipt: nothing ran");
        ((string?)records[2]!["data"]!["by"]).ShouldBe("admin:bob");
    }

    [Fact]
    public async Task ApprovalTimeout_NobodyDecides_RunCompletesRejectedAsExpired()
    {
        await using var factory = new SandboxApiFactory(new Dictionary<string, string> { ["Sandbox:Guard:ApprovalTimeout"] = "00:00:01" });
        var (issued, agent) = await factory.AgentAsync(Some.Agent("approve-expire"));
        await HoldAsync(factory, issued.Agent.Id);
        var (runId, _) = await SubmitPendingAsync(agent, "echo never");

        var done = await agent.WaitForStateAsync(runId, "completed", TimeSpan.FromSeconds(10));

        ((string?)done["state"]).ShouldBe("completed");
        ((string?)done["result"]!["status"]).ShouldBe("rejected");
        ((string)done["result"]!["message"]!).ShouldContain("approval expired");
        ((string?)done["approval"]!["state"]).ShouldBe("expired");
        var records = await factory.AuditOfRunAsync(runId);
        records.Select(r => $"{r!["kind"]} {r["status"]}").ShouldBe(["request received", "decision pending", "approval expired", "result rejected"]);
        ((string?)records[2]!["data"]!["note"]).ShouldBe("no decision within 1 s");
    }

    [Fact]
    public async Task Delete_PendingRun_ClosesItsApproval_SoNobodyApprovesAGhost()
    {
        var (issued, agent) = await _factory.AgentAsync(Some.Agent("approve-delete"));
        await HoldAsync(_factory, issued.Agent.Id);
        var (runId, approvalId) = await SubmitPendingAsync(agent, "echo never");

        using var deleted = await agent.DeleteAsync($"/v1/runs/{runId}", Token);

        deleted.StatusCode.ShouldBe(HttpStatusCode.OK);
        var view = await deleted.JsonAsync();
        ((string?)view["result"]!["status"]).ShouldBe("rejected");
        ((string?)view["approval"]!["state"]).ShouldBe("expired");
        (await PendingApprovalsAsync(_factory)).ShouldNotContain(a => (string?)a!["id"] == approvalId, "a run that is gone is not waiting for anyone");
        using var late = await _factory.AdminPostAsync($"/admin/v1/approvals/{approvalId}/approve", new { by = "alice" });
        late.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        var records = await _factory.AuditOfRunAsync(runId);
        records.Select(r => $"{r!["kind"]} {r["status"]}").ShouldBe(["request received", "decision pending", "approval expired", "result rejected"]);
        ((string?)records[2]!["data"]!["by"]).ShouldBe("system");
    }

    [Fact]
    public async Task ProfileRequiringApproval_AnyAgentsRunWaits()
    {
        var profiles = Path.Join(Path.GetTempPath(), "sandbox-approval-profiles", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Join(profiles, "bash"));
        try
        {
            var document = JsonNode.Parse(await File.ReadAllTextAsync(Path.Join(RepositoryRoot.Path, "images", "bash", "profile.json"), Token))!;
            document["profiles"]!["bash"]!["requiresApproval"] = true;
            await File.WriteAllTextAsync(Path.Join(profiles, "bash", "profile.json"), document.ToJsonString(), Token);
            await using var factory = new SandboxApiFactory(new Dictionary<string, string> { ["Sandbox:Profiles"] = profiles });
            var (_, agent) = await factory.AgentAsync(Some.Agent("approve-profile"));

            var (runId, approvalId) = await SubmitPendingAsync(agent, "echo risky");

            var approval = (await PendingApprovalsAsync(factory)).Single(a => (string?)a!["id"] == approvalId)!;
            ((string)approval["reason"]!).ShouldContain("requires a human's approval");
            using var approved = await factory.AdminPostAsync($"/admin/v1/approvals/{approvalId}/approve", new { by = "carol" });
            var done = await agent.WaitForStateAsync(runId, "completed", TimeSpan.FromSeconds(30));
            ((string?)done["result"]!["stdout"]).ShouldBe("risky\n");
        }
        finally
        {
            Directory.Delete(profiles, recursive: true);
        }
    }

    /// <summary>
    /// Attack: <c>import helper</c> in the code, the harm in a file (and stdin) the approver never saw.
    /// Expected: the admin API shows every file (path, size, SHA-256, content), stdin, runtime and limits, and the digest they bind.
    /// </summary>
    [Fact]
    public async Task HeldAgent_ApprovalShowsFilesStdinRuntimeAndLimits()
    {
        var (issued, agent) = await _factory.AgentAsync(Some.Agent("approve-files"));
        await HoldAsync(_factory, issued.Agent.Id);

        var (_, approvalId) = await SubmitPendingAsync(agent, WithHelper("echo harmless-helper"));

        var approval = (await PendingApprovalsAsync(_factory)).Single(a => (string?)a!["id"] == approvalId)!;
        var file = approval["files"]!.AsArray().ShouldHaveSingleItem()!;
        ((string?)file["path"]).ShouldBe("helper.sh");
        ((string?)file["content"]).ShouldBe("echo harmless-helper\n");
        ((long)file["bytes"]!).ShouldBe(21);
        ((string?)file["sha256"]).ShouldBe(Sandbox.Guard.Policy.AuditRecords.Sha256("echo harmless-helper\n"));
        ((string?)approval["stdin"]).ShouldBe("from stdin\n");
        ((string?)approval["backend"]).ShouldBe("docker");
        ((string?)approval["runtime"]).ShouldBe("crun");
        ((long)approval["limits"]!["cpuTimeMs"]!).ShouldBeGreaterThan(0);
        ((string?)approval["requestSha256"]).ShouldNotBeNull().Length.ShouldBe(64);
        using var denied = await _factory.AdminPostAsync($"/admin/v1/approvals/{approvalId}/deny", new { by = "test" });
    }

    /// <summary>
    /// Attack: the approver is shown a harmless helper file while the run would use another (the approval record changed
    /// behind the service's back, as by anyone with the database file). Expected: approving it does not run it; it ends
    /// <c>rejected</c> with <c>approval_mismatch</c>, audited, and the harmful file never runs.
    /// </summary>
    [Fact]
    public async Task HeldAgent_ApprovalRecordChangedBeforeRelease_RunIsRefused()
    {
        var (issued, agent) = await _factory.AgentAsync(Some.Agent("approve-mismatch"));
        await HoldAsync(_factory, issued.Agent.Id);
        var (runId, approvalId) = await SubmitPendingAsync(agent, WithHelper("echo PWNED"));

        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Join(_factory.DataDirectory, "sandbox.db")};Pooling=False"))
        {
            await connection.OpenAsync(Token);
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE approvals SET details = replace(details, 'PWNED', 'fine.') WHERE id = $id";
            command.Parameters.AddWithValue("$id", approvalId);
            (await command.ExecuteNonQueryAsync(Token)).ShouldBe(1);
        }

        using var approved = await _factory.AdminPostAsync($"/admin/v1/approvals/{approvalId}/approve", new { by = "alice" });
        approved.StatusCode.ShouldBe(HttpStatusCode.OK);

        var done = await agent.WaitForStateAsync(runId, "completed", TimeSpan.FromSeconds(30));
        ((string?)done["result"]!["status"]).ShouldBe("rejected");
        ((string?)done["result"]!["message"]).ShouldNotBeNull().ShouldContain("approval");
        ((string?)done["result"]!["stdout"]).ShouldNotBe("PWNED\n");
        var records = await _factory.AuditOfRunAsync(runId);
        records.Select(r => $"{r!["kind"]} {r["status"]}").ShouldBe(["request received", "decision pending", "approval approved", "decision rejected", "result rejected"]);
        ((string?)records[3]!["data"]!["code"]).ShouldBe("approval_mismatch");
    }

    /// <summary>A bash run that sources a helper file and reads stdin: the code alone looks harmless.</summary>
    private static object WithHelper(string helper) => new
    {
        language = "bash",
        code = "source ./helper.sh; cat",
        stdin = "from stdin\n",
        files = new[] { new { path = "helper.sh", content = helper + "\n" } },
        purpose = "guard end-to-end test",
    };

    private static async Task HoldAsync(SandboxApiFactory factory, string agentId)
    {
        using var held = await factory.AdminPostAsync($"/admin/v1/agents/{agentId}/hold", new { reason = "new agent, watch it", by = "test" });
        held.StatusCode.ShouldBe(HttpStatusCode.OK);
        ((string?)(await held.JsonAsync())["state"]).ShouldBe("under_approval");
    }

    /// <summary>Posts a waited-for run and checks it comes back at once as 202 pending_approval; returns its id and the approval's.</summary>
    private static Task<(string RunId, string ApprovalId)> SubmitPendingAsync(HttpClient agent, string code) => SubmitPendingAsync(agent, Some.Bash(code));

    private static async Task<(string RunId, string ApprovalId)> SubmitPendingAsync(HttpClient agent, object body)
    {
        using var response = await agent.PostRunAsync(body);
        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(Token));
        var view = await response.JsonAsync();
        ((string?)view["state"]).ShouldBe("pending_approval");
        var approvalId = (string)view["approval"]!["id"]!;
        approvalId.ShouldStartWith("apr_");
        return ((string)view["id"]!, approvalId);
    }

    private static async Task<JsonArray> PendingApprovalsAsync(SandboxApiFactory factory)
    {
        using var admin = factory.AdminClient();
        using var response = await admin.GetAsync("/admin/v1/approvals", Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.JsonAsync()).AsArray();
    }
}
