using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Core.Runs;
using Sandbox.Guard.Agents;
using Sandbox.Server.IntegrationTests.Http;
using Sandbox.Server.IntegrationTests.Support;
using Sandbox.Server.Runs;

namespace Sandbox.Server.IntegrationTests.Guard;

/// <summary>
/// Revoking an agent bites within a second: its running code is killed and its container removed, its key stops
/// working, and other agents' runs carry on. Through the admin API, and through the store alone (as the CLI does).
/// </summary>
[Trait("Category", "Integration")]
public sealed class RevocationTests : IClassFixture<SandboxApiFactory>
{
    private static readonly string[] s_bashOnly = ["bash"];

    private static readonly TimeSpan s_bite = TimeSpan.FromSeconds(1);

    private readonly SandboxApiFactory _factory;

    public RevocationTests(SandboxApiFactory factory) => _factory = factory;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AdminRevoke_KillsTheAgentsRunningCode_RefusesItsKey_AndLeavesOthersAlone()
    {
        var (victim, victimClient) = await _factory.AgentAsync(Some.Agent("revoke-api"));
        var (_, bystanderClient) = await _factory.AgentAsync(Some.Agent("revoke-bystander"));
        var victimRun = await StartSleepAsync(victimClient);
        var bystanderRun = await StartSleepAsync(bystanderClient);
        var entry = _factory.Coordinator().Find(victimRun, await _factory.PrincipalAsync(victim.Key)).ShouldNotBeNull();

        var clock = Stopwatch.StartNew();
        using var response = await _factory.AdminPostAsync($"/admin/v1/agents/{victim.Agent.Id}/revoke", new { reason = "leaked key", by = "alice" });
        var answered = clock.Elapsed;

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        answered.ShouldBeLessThan(TimeSpan.FromSeconds(3), "the revoke answer waits for the kill, but not for long");
        var revoked = await response.JsonAsync();
        ((string?)revoked["agent"]!["state"]).ShouldBe("revoked");
        ((int)revoked["stoppedRuns"]!).ShouldBe(1);
        await ShouldCompleteWithinAsync(entry, s_bite);
        var result = RunLifecycle.View(entry).Result.ShouldNotBeNull();
        result.Status.ShouldBe(RunStatus.Cancelled);
        result.Message.ShouldNotBeNull().ShouldContain("revoked");
        (await DockerProbe.ContainersOfRunAsync(victimRun)).ShouldBeEmpty("the container is gone once the run is completed");

        using var after = await victimClient.PostRunAsync(Some.Bash("echo no"));
        after.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await after.JsonAsync()).Code().ShouldBe("agent_revoked");

        var admin = await _factory.AuditAsync($"agent={victim.Agent.Id}&kind=admin&status=agent_revoked");
        ((string?)admin.ShouldHaveSingleItem()!["data"]!["actor"]).ShouldBe("admin:alice");
        var records = await _factory.AuditOfRunAsync(victimRun);
        records.Select(r => $"{r!["kind"]} {r["status"]}").ShouldBe(["request received", "decision allowed", "receipt planned", "result cancelled"], "one result per run, however it ended");

        var untouched = await (await bystanderClient.GetAsync($"/v1/runs/{bystanderRun}", Token)).JsonAsync();
        ((string?)untouched["state"]).ShouldBe("running", "another agent's run is not touched");
        (await DockerProbe.ContainersOfRunAsync(bystanderRun)).ShouldNotBeEmpty();
        (await bystanderClient.DeleteAsync($"/v1/runs/{bystanderRun}", Token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await _factory.ShouldBeIntactAsync();
    }

    [Fact]
    public async Task StoreRevoke_AsTheCliDoes_TheWatcherKillsTheRunWithinASecond()
    {
        var (victim, victimClient) = await _factory.AgentAsync(Some.Agent("revoke-store"));
        var runId = await StartSleepAsync(victimClient);
        var entry = _factory.Coordinator().Find(runId, await _factory.PrincipalAsync(victim.Key)).ShouldNotBeNull();

        var revoked = await _factory.Services.GetRequiredService<AgentAdmin>().RevokeAsync(victim.Agent.Id, "revoked from the CLI", "cli:test", Token);
        var clock = Stopwatch.StartNew();

        revoked.Ok.ShouldBeTrue(revoked.Message);
        await ShouldCompleteWithinAsync(entry, s_bite, clock);
        var result = RunLifecycle.View(entry).Result.ShouldNotBeNull();
        result.Status.ShouldBe(RunStatus.Cancelled);
        result.Message.ShouldNotBeNull().ShouldContain("revoked");
        (await DockerProbe.ContainersOfRunAsync(runId)).ShouldBeEmpty();
        using var after = await victimClient.GetAsync("/v1/me", Token);
        (await after.JsonAsync()).Code().ShouldBe("agent_revoked");
        var records = await _factory.AuditOfRunAsync(runId);
        records.Select(r => $"{r!["kind"]} {r["status"]}").ShouldBe(["request received", "decision allowed", "receipt planned", "result cancelled"]);
    }

    [Fact]
    public async Task AdminRevoke_PendingRun_IsRejected_AndItsApprovalLeavesThePendingList()
    {
        var (victim, victimClient) = await _factory.AgentAsync(Some.Agent("revoke-pending"));
        (await _factory.AdminPostAsync($"/admin/v1/agents/{victim.Agent.Id}/hold", new { reason = "watch it" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        using var submitted = await victimClient.PostRunAsync(Some.Bash("echo never"));
        submitted.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var pending = await submitted.JsonAsync();
        var runId = (string)pending["id"]!;
        var approvalId = (string)pending["approval"]!["id"]!;
        var entry = _factory.Coordinator().Find(runId, await _factory.PrincipalAsync(victim.Key)).ShouldNotBeNull();

        using var response = await _factory.AdminPostAsync($"/admin/v1/agents/{victim.Agent.Id}/revoke", new { reason = "leaked key" });

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        ((int)(await response.JsonAsync())["stoppedRuns"]!).ShouldBe(1);
        entry.State.ShouldBe(RunState.Completed);
        var result = RunLifecycle.View(entry).Result.ShouldNotBeNull();
        result.Status.ShouldBe(RunStatus.Rejected);
        result.Message.ShouldNotBeNull().ShouldContain("revoked");
        using var admin = _factory.AdminClient();
        var approvals = (await (await admin.GetAsync("/admin/v1/approvals", Token)).JsonAsync()).AsArray();
        approvals.ShouldNotContain(a => (string?)a!["id"] == approvalId);
        (await _factory.AdminPostAsync($"/admin/v1/approvals/{approvalId}/approve", new { by = "alice" })).StatusCode.ShouldBe(HttpStatusCode.Conflict);
        var records = await _factory.AuditOfRunAsync(runId);
        records.Select(r => $"{r!["kind"]} {r["status"]}").ShouldBe(["request received", "decision pending", "approval expired", "result rejected"]);
    }

    [Fact]
    public async Task AdminRevoke_RightAfterSubmitting_LeavesNoContainerBehind()
    {
        // Revoked at once, the runs are caught wherever they are: queued, creating their container, or starting it.
        var runIds = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var (victim, client) = await _factory.AgentAsync(Some.Agent("revoke-early"));
            using var submitted = await client.PostRunAsync(Some.BashAsync("sleep 60"));
            submitted.StatusCode.ShouldBe(HttpStatusCode.Accepted);
            var runId = (string)(await submitted.JsonAsync())["id"]!;
            var entry = _factory.Coordinator().Find(runId, await _factory.PrincipalAsync(victim.Key)).ShouldNotBeNull();
            await Task.Delay(i * 20, Token);

            using var revoked = await _factory.AdminPostAsync($"/admin/v1/agents/{victim.Agent.Id}/revoke", new { reason = "early" });

            revoked.StatusCode.ShouldBe(HttpStatusCode.OK);
            entry.State.ShouldBe(RunState.Completed);
            runIds.Add(runId);
        }

        // A container the daemon was still creating would show up a moment later.
        await Task.Delay(TimeSpan.FromSeconds(1), Token);
        foreach (var runId in runIds)
        {
            (await DockerProbe.ContainersOfRunAsync(runId)).ShouldBeEmpty($"run {runId} left a container behind");
        }
    }

    /// <summary>
    /// Attack: a leaked key (and a task token it minted) each have a long run going when the operator rotates the key.
    /// Expected: both runs are killed before the rotate answers, recorded cancelled with the reason, containers gone;
    /// the agent's new key runs and is not touched (another agent's runs are left alone as in the revocation test).
    /// </summary>
    [Fact]
    public async Task AdminRotate_KillsRunsOfTheOldKeyAndItsTokens_AndLeavesTheNewKeysRunsAlone()
    {
        var (victim, oldKey) = await _factory.AgentAsync(Some.Agent("rotate-api"));
        using var token = await TokenClientAsync(oldKey);
        // Started together (the service has a slot per core): one after another, the first could reach its wall limit first.
        var started = await Task.WhenAll(StartSleepAsync(oldKey), StartSleepAsync(token.Client));
        var (keyRun, tokenRun) = (started[0], started[1]);
        var keyEntry = _factory.Coordinator().Find(keyRun, await _factory.PrincipalAsync(victim.Key)).ShouldNotBeNull();
        var tokenEntry = _factory.Coordinator().Find(tokenRun, token.Principal).ShouldNotBeNull();

        var clock = Stopwatch.StartNew();
        using var response = await _factory.AdminPostAsync($"/admin/v1/agents/{victim.Agent.Id}/rotate", new { by = "alice" });

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Token));
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(3), "the rotate answer waits for the kill, but not for long");
        keyEntry.State.ShouldBe(RunState.Completed, "killed before the rotation answered");
        tokenEntry.State.ShouldBe(RunState.Completed, "killed before the rotation answered");
        foreach (var (entry, what) in new[] { (keyEntry, "key"), (tokenEntry, "task token") })
        {
            var result = RunLifecycle.View(entry).Result.ShouldNotBeNull();
            result.Status.ShouldBe(RunStatus.Cancelled);
            result.Message.ShouldNotBeNull().ShouldContain(what);
            result.Message.ShouldContain("rotated or revoked");
            (await DockerProbe.ContainersOfRunAsync(entry.Id)).ShouldBeEmpty();
            (await _factory.AuditOfRunAsync(entry.Id)).Select(r => $"{r!["kind"]} {r["status"]}")
                .ShouldBe(["request received", "decision allowed", "receipt planned", "result cancelled"]);
        }

        using var newKey = _factory.CreateClient((string)(await response.JsonAsync())["key"]!);
        var newRun = await StartSleepAsync(newKey);
        await Task.Delay(TimeSpan.FromSeconds(1), Token);
        ((string?)(await (await newKey.GetAsync($"/v1/runs/{newRun}", Token)).JsonAsync())["state"]).ShouldBe("running", "the new key's run is not the leak");
        (await newKey.DeleteAsync($"/v1/runs/{newRun}", Token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await _factory.ShouldBeIntactAsync();
    }

    [Fact]
    public async Task StoreRotate_AsTheCliDoes_TheWatcherKillsTheOldKeysAndTokensRunsWithinASecond()
    {
        var (victim, oldKey) = await _factory.AgentAsync(Some.Agent("rotate-store"));
        using var token = await TokenClientAsync(oldKey);
        var started = await Task.WhenAll(StartSleepAsync(oldKey), StartSleepAsync(token.Client));
        var (keyRun, tokenRun) = (started[0], started[1]);
        var keyEntry = _factory.Coordinator().Find(keyRun, await _factory.PrincipalAsync(victim.Key)).ShouldNotBeNull();
        var tokenEntry = _factory.Coordinator().Find(tokenRun, token.Principal).ShouldNotBeNull();

        var rotated = await _factory.Services.GetRequiredService<AgentAdmin>().RotateAsync(victim.Agent.Id, "cli:test", Token);
        var clock = Stopwatch.StartNew();

        rotated.Ok.ShouldBeTrue(rotated.Message);
        await ShouldCompleteWithinAsync(keyEntry, s_bite, clock);
        await ShouldCompleteWithinAsync(tokenEntry, s_bite, clock);
        RunLifecycle.View(keyEntry).Result.ShouldNotBeNull().Status.ShouldBe(RunStatus.Cancelled);
        RunLifecycle.View(tokenEntry).Result.ShouldNotBeNull().Message.ShouldNotBeNull().ShouldContain("rotated or revoked");
        (await DockerProbe.ContainersOfRunAsync(keyRun)).ShouldBeEmpty();
        (await DockerProbe.ContainersOfRunAsync(tokenRun)).ShouldBeEmpty();
    }

    private async Task<TokenClient> TokenClientAsync(HttpClient agent)
    {
        using var minted = await agent.MintTokenAsync(new { profiles = s_bashOnly });
        minted.StatusCode.ShouldBe(HttpStatusCode.OK, await minted.Content.ReadAsStringAsync(Token));
        var secret = (string)(await minted.JsonAsync())["token"]!;
        return new TokenClient(_factory.CreateClient(secret), await _factory.PrincipalAsync(secret));
    }

    private sealed record TokenClient(HttpClient Client, Sandbox.Guard.Policy.Principal Principal) : IDisposable
    {
        public void Dispose() => Client.Dispose();
    }

    /// <summary>Starts <c>sleep 60</c> and returns its id once it is running with its container up.</summary>
    private static async Task<string> StartSleepAsync(HttpClient client)
    {
        using var response = await client.PostRunAsync(Some.BashAsync("echo up; sleep 60"));
        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(Token));
        var id = (string)(await response.JsonAsync())["id"]!;
        ((string?)(await client.WaitForStateAsync(id, "running", TimeSpan.FromSeconds(20)))["state"]).ShouldBe("running");
        (await GuardApi.EventuallyAsync(async () => (await DockerProbe.ContainersOfRunAsync(id)).Length > 0, TimeSpan.FromSeconds(20)))
            .ShouldBeTrue("the run's container should be up");
        return id;
    }

    /// <summary>Waits (generously, so a slow kill still reports how slow) and asserts the run completed within <paramref name="limit"/> of <paramref name="clock"/>'s start.</summary>
    private static async Task ShouldCompleteWithinAsync(RunEntry entry, TimeSpan limit, Stopwatch? clock = null)
    {
        clock ??= Stopwatch.StartNew();
        await entry.Completed.WaitAsync(TimeSpan.FromSeconds(15), Token);
        clock.Elapsed.ShouldBeLessThan(limit, "revocation must bite within a second");
        entry.State.ShouldBe(RunState.Completed);
    }
}
