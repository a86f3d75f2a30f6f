using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Guard.Alerts;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Tests.Store;

/// <summary>
/// Work claimed, not pushed, on a real PostgreSQL database (issue 15, point 2; <see cref="IRunClaims"/>): a run offered by the
/// node that admitted it goes to exactly one claimer, only to a node that serves what it needs, only under a live lease,
/// and from then on only its claimer may write it. Each store here is a node (its own pool of connections).
/// </summary>
public sealed class PostgresGuardStoreClaimsTests(PostgresCluster cluster) : StoreContract(new PostgresBacking(cluster))
{
    private const string Agent = "agt_claims";
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly NodeServes Wasm = new(["wasm"], ["python.wasm"]);
    private static readonly string WasmNeeds = RunNeeds.Of("wasm", "python.wasm");

    [Fact]
    public async Task ClaimAsync_TwoNodesRacing_EachOfferedRunGoesToExactlyOneOfThem()
    {
        var a = await NodeAsync("node-a", Wasm);
        var offered = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            offered.Add((await OfferAsync(a, WasmNeeds)).RunId);
        }

        var b = await NodeAsync("node-b", Wasm);
        var c = await NodeAsync("node-c", Wasm);
        var claims = await Task.WhenAll(Task.Run(() => ClaimAllAsync(b), Ct), Task.Run(() => ClaimAllAsync(c), Ct));

        claims[0].Intersect(claims[1]).ShouldBeEmpty("no run is claimed twice");
        claims[0].Concat(claims[1]).Order().ShouldBe(offered.Order(), "and none is left behind");
        foreach (var (node, mine) in new[] { (b, claims[0]), (c, claims[1]) })
        {
            foreach (var id in mine)
            {
                var row = (await a.FindRunAsync(id, Ct)).ShouldNotBeNull();
                (row.State, row.OwnerNode, row.Fence).ShouldBe(("queued", Leases(node).Lease!.NodeId, Leases(node).Lease!.Fence));
            }
        }

        (await Claims(a).ClaimAsync(10, Ct)).ShouldBeEmpty("nothing offered is left");
    }

    [Fact]
    public async Task ClaimAsync_OldestFirst_AtMostMax()
    {
        var a = await NodeAsync("node-a", Wasm);
        var first = await OfferAsync(a, WasmNeeds, Some.Now);
        var third = await OfferAsync(a, WasmNeeds, Some.Now.AddSeconds(2));
        var second = await OfferAsync(a, WasmNeeds, Some.Now.AddSeconds(1));

        (await Claims(a).ClaimAsync(2, Ct)).Select(c => c.Run.RunId).ShouldBe([first.RunId, second.RunId], "the admitting node may claim its own offers");
        (await Claims(a).ClaimAsync(0, Ct)).ShouldBeEmpty("no free slot, no claim");
        (await Claims(a).ClaimAsync(2, Ct)).ShouldHaveSingleItem().Run.RunId.ShouldBe(third.RunId);
    }

    [Fact]
    public async Task ClaimAsync_ANodeThatDoesNotServeTheRunsNeeds_LeavesIt_ForOneThatDoes()
    {
        var wasmOnly = await NodeAsync("node-wasm", Wasm);
        var docker = await OfferAsync(wasmOnly, RunNeeds.Of("docker", "sandbox-python:3.12"));
        var otherImage = await NodeAsync("node-other", new NodeServes(["docker"], ["sandbox-node:22"]));
        var cli = await OpenAsync(); // no lease: what it admits has no owner and no needs; nobody offered it, so nobody claims it
        var unoffered = await AdmitAsync(cli, needs: null);

        (await Claims(wasmOnly).ClaimAsync(10, Ct)).ShouldBeEmpty("this node has no docker backend");
        (await Claims(otherImage).ClaimAsync(10, Ct)).ShouldBeEmpty("nor this one the run's image");
        var full = await NodeAsync("node-full", new NodeServes(["docker", "wasm"], ["python.wasm", "sandbox-python:3.12"]));
        (await Claims(full).ClaimAsync(10, Ct)).ShouldHaveSingleItem().Run.RunId.ShouldBe(docker.RunId);

        var row = (await cli.FindRunAsync(unoffered.RunId, Ct)).ShouldNotBeNull();
        (row.State, row.OwnerNode).ShouldBe(("queued", (string?)null), "an unoffered row is never claimed");
    }

    [Fact]
    public async Task ClaimAsync_WithoutALiveLease_ClaimsNothing_AndOnlyTheClaimerWritesTheRunAfter()
    {
        var a = await NodeAsync("node-a", Wasm);
        var run = await OfferAsync(a, WasmNeeds);
        var stale = await NodeAsync("node-stale", Wasm);
        await RawAsync("UPDATE nodes SET lease_until = clock_timestamp() - interval '1 second' WHERE node_id = 'node-stale'");
        (await Claims(stale).ClaimAsync(10, Ct)).ShouldBeEmpty("a node whose lease ran out is fenced out of claims");

        var b = await NodeAsync("node-b", Wasm);
        (await Claims(b).ClaimAsync(10, Ct)).ShouldHaveSingleItem();

        (await a.CommitAsync(new RunTransition { Move = new RunStateChange(run.RunId, "running") }, Ct)).ShouldBeFalse("the admitting node must not start it beside its claimer");
        (await a.CommitAsync(End(run.RunId, "ok"), Ct)).ShouldBeFalse();
        (await b.CommitAsync(new RunTransition { Move = new RunStateChange(run.RunId, "running") }, Ct)).ShouldBeTrue();
        (await b.CommitAsync(End(run.RunId, "ok"), Ct)).ShouldBeTrue();
        (await b.QueryAuditAsync(new AuditQuery { RunId = run.RunId, Kind = AuditKinds.Result }, Ct)).ShouldHaveSingleItem().Status.ShouldBe("ok");
        (await Claims(b).ClaimAsync(10, Ct)).ShouldBeEmpty("an owned run is not offered again");
        var verification = await b.VerifyAuditAsync(Ct);
        verification.Intact.ShouldBeTrue(verification.Problem);
    }

    [Fact]
    public async Task ClaimAsync_ACancelAskedBeforeTheClaim_TravelsWithIt()
    {
        var a = await NodeAsync("node-a", Wasm);
        var run = await OfferAsync(a, WasmNeeds);
        (await Leases(a).RequestCancelAsync(run.RunId, "cancelled by DELETE on node-a", Ct)).ShouldBeTrue("an offered run is open");

        var b = await NodeAsync("node-b", Wasm);
        (await Claims(b).ClaimAsync(10, Ct)).ShouldHaveSingleItem().CancelRequested.ShouldBe("cancelled by DELETE on node-a");
    }

    [Fact]
    public async Task ClaimOfferedAsync_TakesThatRunOnly_AndNotOnceAnotherNodeClaimedIt()
    {
        var a = await NodeAsync("node-a", Wasm);
        var older = await OfferAsync(a, WasmNeeds, Some.Now);
        var target = await OfferAsync(a, WasmNeeds, Some.Now.AddSeconds(1));
        var b = await NodeAsync("node-b", Wasm);

        (await Claims(b).ClaimOfferedAsync(target.RunId, Ct)).ShouldNotBeNull().Run.RunId.ShouldBe(target.RunId);
        (await Claims(a).ClaimOfferedAsync(target.RunId, Ct)).ShouldBeNull("node-b has it");
        (await a.FindRunAsync(older.RunId, Ct)).ShouldNotBeNull().OwnerNode.ShouldBeNull("the older offer was not touched");
        (await Claims(a).ClaimOfferedAsync("run_unknown", Ct)).ShouldBeNull();
    }

    [Fact]
    public async Task OwnOpenRunsAsync_AnOfferNotYetClaimed_IsLeftInTheQueue_NotClosedByTheAdmittingNodesRecovery()
    {
        var a = await NodeAsync("node-a", Wasm);
        var offered = await OfferAsync(a, WasmNeeds);
        var kept = await AdmitAsync(a, needs: null);

        var guard = new RunGuard(a, new GuardOptions { NodeId = "node-a" }, NullAlertSink.Instance, Clock, NullLogger<RunGuard>.Instance);
        (await guard.OwnOpenRunsAsync(Ct)).Select(r => r.RunId).ShouldBe([kept.RunId], "a restarted node-a recovers its own rows only");
    }

    [Fact]
    public async Task ListenQueuedAsync_AnOffer_WakesAListeningNode_OnlyOnceItCommits()
    {
        var a = await NodeAsync("node-a", Wasm);
        var b = await NodeAsync("node-b", Wasm);
        var woken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var listen = Task.Run(() => Claims(b).ListenQueuedAsync(() => woken.TrySetResult(), () => listening.TrySetResult(), stop.Token), Ct);
        await listening.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        await AdmitAsync(a, needs: null);
        await Task.Delay(300, Ct);
        woken.Task.IsCompleted.ShouldBeFalse("a run its node keeps is not announced");

        await OfferAsync(a, WasmNeeds);
        await woken.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        await stop.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(() => listen);
    }

    /// <summary>Claims in small batches until nothing is left for this node.</summary>
    private static async Task<List<string>> ClaimAllAsync(IGuardStore node)
    {
        var mine = new List<string>();
        while (await Claims(node).ClaimAsync(3, Ct) is { Count: > 0 } batch)
        {
            mine.AddRange(batch.Select(c => c.Run.RunId));
        }

        return mine;
    }

    private async Task<IGuardStore> NodeAsync(string nodeId, NodeServes serves)
    {
        var store = await OpenAsync();
        (await Leases(store).AcquireLeaseAsync(nodeId, serves, Lease, Ct)).ShouldNotBeNull();
        return store;
    }

    private static async Task<StoredRun> OfferAsync(IGuardStore store, string needs, DateTimeOffset? createdAt = null)
    {
        var run = await AdmitAsync(store, needs, createdAt);
        var row = (await store.FindRunAsync(run.RunId, Ct)).ShouldNotBeNull();
        (row.OwnerNode, row.Fence).ShouldBe(((string?)null, (long?)null), "an offered run has no owner until claimed");
        System.Text.Json.JsonSerializer.Deserialize<string[]>(row.Needs.ShouldNotBeNull()).ShouldBe(System.Text.Json.JsonSerializer.Deserialize<string[]>(needs));
        return run;
    }

    /// <summary>Admits a run as a node does: its row, and the request and decision records that make it open in the audit.</summary>
    private static async Task<StoredRun> AdmitAsync(IGuardStore store, string? needs, DateTimeOffset? createdAt = null)
    {
        var run = new StoredRun
        {
            RunId = "run_" + Guid.NewGuid().ToString("N"),
            AgentId = Agent,
            CredentialId = "cred_1",
            Plan = "{\"language\":\"python\"}",
            State = "queued",
            CreatedAt = createdAt ?? Some.Now,
            ExpiresAt = Some.Now.AddMinutes(15),
            Needs = needs,
        };
        (await store.CommitAsync(new RunTransition
        {
            Admit = run,
            Audit = [Some.Entry(AuditKinds.Request, run.RunId, agentId: Agent), Some.Entry(AuditKinds.Decision, run.RunId, "allowed", Agent)],
        }, Ct)).ShouldBeTrue();
        return run;
    }

    private static RunTransition End(string runId, string status) => new()
    {
        Complete = new RunCompletion(runId, status, null, Some.Now, "{}", null),
        Charges = [new UsageCharge(Agent, "2026-03-01", 1, 100)],
        Audit = [Some.Entry(AuditKinds.Result, runId, status, Agent)],
    };

    private static INodeLeases Leases(IGuardStore store) => (INodeLeases)store;

    private static IRunClaims Claims(IGuardStore store) => (IRunClaims)store;
}
