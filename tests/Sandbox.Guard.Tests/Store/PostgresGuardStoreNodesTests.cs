using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Guard.Alerts;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Tests.Store;

/// <summary>
/// Node leases with a fencing token on a real PostgreSQL database (issue 15, point 5; <see cref="INodeLeases"/>): a node whose
/// lease expired is taken over exactly once, its running runs closed as interrupted with one result record each and its
/// queued runs passed to the survivor, and every later write of the dead node under its old fence is refused.
/// Each store here is a node (its own pool of connections); the lease's expiry is forced in the database, whose clock judges it.
/// </summary>
public sealed class PostgresGuardStoreNodesTests(PostgresCluster cluster) : StoreContract(new PostgresBacking(cluster))
{
    private const string Agent = "agt_nodes";
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TakeOverAsync_LeaseExpired_ClosesItsRunningRunsAndTakesItsQueuedOnes_ExactlyOnceAcrossSurvivors()
    {
        var (a, running, queued) = await NodeWithRunsAsync("node-a");
        var done = await AdmitAsync(a, "queued");
        (await a.CommitAsync(new RunTransition { Complete = new RunCompletion(done.RunId, "ok", null, Some.Now, "{}", null) }, Ct)).ShouldBeTrue();
        var cli = await OpenAsync(); // no lease: a run it admits has no owner, and is nobody's to take over
        var unowned = await AdmitAsync(cli, "running");
        var b = await NodeAsync("node-b");
        var c = await NodeAsync("node-c");

        (await Leases(b).ExpiredLeasesAsync(Ct)).ShouldBeEmpty("node-a renewed nothing yet, but its lease has 30 s left");
        (await Guard(b, "node-b").TakeOverAsync(Leases(b), Leases(a).Lease!, Ct)).ShouldBeNull("a live node is not taken over");

        await ExpireAsync("node-a");
        var dead = (await Leases(b).ExpiredLeasesAsync(Ct)).ShouldHaveSingleItem();
        dead.ShouldBe(Leases(a).Lease);

        // Both survivors see it expire and go for it at once: one takes it over, the other finds nothing to do.
        var takeovers = await Task.WhenAll(
            Task.Run(() => Guard(b, "node-b").TakeOverAsync(Leases(b), dead, Ct), Ct),
            Task.Run(() => Guard(c, "node-c").TakeOverAsync(Leases(c), dead, Ct), Ct));
        var takeover = takeovers.Where(t => t is not null).ShouldHaveSingleItem()!;
        var winner = takeovers[0] is not null ? b : c;
        takeover.Closed.ShouldBe([running.RunId]);
        takeover.Queued.Select(r => r.RunId).ShouldBe([queued.RunId]);

        var closed = (await a.FindRunAsync(running.RunId, Ct)).ShouldNotBeNull();
        (closed.State, closed.Status).ShouldBe(("completed", "interrupted"));
        closed.Reason.ShouldNotBeNull().ShouldContain("node-a");
        var results = await a.QueryAuditAsync(new AuditQuery { RunId = running.RunId, Kind = AuditKinds.Result }, Ct);
        results.ShouldHaveSingleItem().Status.ShouldBe("interrupted");

        var taken = (await a.FindRunAsync(queued.RunId, Ct)).ShouldNotBeNull();
        (taken.State, taken.OwnerNode, taken.Fence).ShouldBe(("queued", Leases(winner).Lease!.NodeId, Leases(winner).Lease!.Fence));
        (await a.QueryAuditAsync(new AuditQuery { RunId = queued.RunId, Kind = AuditKinds.Result }, Ct)).ShouldBeEmpty("a queued run is run by the survivor, not closed");
        (await a.FindRunAsync(done.RunId, Ct)).ShouldNotBeNull().Status.ShouldBe("ok", "a completed run is left as it ended");
        (await a.FindRunAsync(unowned.RunId, Ct)).ShouldNotBeNull().State.ShouldBe("running", "a run with no owner is nobody's to take over");

        (await RawScalarAsync<long>("SELECT COUNT(*) FROM nodes WHERE node_id = 'node-a'")).ShouldBe(0);
        (await Guard(b, "node-b").TakeOverAsync(Leases(b), dead, Ct)).ShouldBeNull("exactly once");
        var verification = await a.VerifyAuditAsync(Ct);
        verification.Intact.ShouldBeTrue(verification.Problem);
    }

    [Fact]
    public async Task CommitAsync_LateWritesOfANodeTakenOver_AreRefusedByItsFence_AndChangeNothing()
    {
        var (a, running, queued) = await NodeWithRunsAsync("node-a");
        var b = await NodeAsync("node-b");
        await ExpireAsync("node-a");
        (await Guard(b, "node-b").TakeOverAsync(Leases(b), Leases(a).Lease!, Ct)).ShouldNotBeNull();

        // node-a was only paused: it wakes with its old lease and tries to record what it had.
        (await a.CommitAsync(End(running.RunId, "ok"), Ct)).ShouldBeFalse("closed as interrupted by the takeover: the first end wins");
        (await a.CommitAsync(new RunTransition { Move = new RunStateChange(queued.RunId, "running") }, Ct)).ShouldBeFalse("the survivor runs it; node-a must not start it too");
        (await a.CommitAsync(End(queued.RunId, "ok"), Ct)).ShouldBeFalse("a stale fence's end is refused");
        (await a.CompleteRunAsync(queued.RunId, "ok", null, Some.Now, "{}", null, Ct)).ShouldBeFalse();
        await a.AppendRunOutputAsync([new RunOutputChunk(queued.RunId, false, "late"u8.ToArray())], Ct);

        var row = (await b.FindRunAsync(queued.RunId, Ct)).ShouldNotBeNull();
        (row.State, row.OwnerNode).ShouldBe(("queued", "node-b"));
        (await b.ReadRunOutputAsync(queued.RunId, Ct)).ShouldBeEmpty("a fenced-out flush adds nothing");
        (await b.QueryAuditAsync(new AuditQuery { RunId = queued.RunId, Kind = AuditKinds.Result }, Ct)).ShouldBeEmpty("nothing of the refused end was written");
        (await b.QueryAuditAsync(new AuditQuery { RunId = running.RunId, Kind = AuditKinds.Result }, Ct)).ShouldHaveSingleItem().Status.ShouldBe("interrupted");
        (await b.GetUsageAsync(Agent, "2026-03-01", Ct)).ShouldBe(Usage.Zero, "a refused end charges nothing");

        (await Leases(a).RenewLeaseAsync(Lease, Ct)).ShouldBeFalse("its lease is gone");
        Leases(a).Lease.ShouldBeNull();

        // The survivor, under its own fence, records the run's one end.
        (await b.CommitAsync(new RunTransition { Move = new RunStateChange(queued.RunId, "running") }, Ct)).ShouldBeTrue();
        (await b.CommitAsync(End(queued.RunId, "ok"), Ct)).ShouldBeTrue();
        (await b.QueryAuditAsync(new AuditQuery { RunId = queued.RunId, Kind = AuditKinds.Result }, Ct)).ShouldHaveSingleItem().Status.ShouldBe("ok");
    }

    [Fact]
    public async Task AcquireLeaseAsync_IdHeldByALiveNode_IsRefusedAndWritesNothing()
    {
        var (live, _, queued) = await NodeWithRunsAsync("node-a");
        var second = await OpenAsync();

        (await Leases(second).AcquireLeaseAsync("node-a", NodeServes.Nothing, Lease, Ct)).ShouldBeNull("two live nodes under one id would fence each other out");

        Leases(second).Lease.ShouldBeNull();
        (await Leases(live).RenewLeaseAsync(Lease, Ct)).ShouldBeTrue("the live node keeps its lease");
        (await live.FindRunAsync(queued.RunId, Ct)).ShouldNotBeNull().Fence.ShouldBe(Leases(live).Lease!.Fence);
    }

    [Fact]
    public async Task AcquireLeaseAsync_SameNodeRestarts_TakesBackItsOpenRowsUnderANewFence_AndTheOldProcessIsFencedOut()
    {
        var (old, _, queued) = await NodeWithRunsAsync("node-a");
        var oldFence = Leases(old).Lease!.Fence;

        // It crashed: its lease runs out, and it starts again under the same id before any survivor took it over.
        await ExpireAsync("node-a");
        var restarted = await NodeAsync("node-a");

        var fence = Leases(restarted).Lease!.Fence;
        fence.ShouldBeGreaterThan(oldFence);
        (await restarted.FindRunAsync(queued.RunId, Ct)).ShouldNotBeNull().Fence.ShouldBe(fence);
        (await old.CommitAsync(End(queued.RunId, "ok"), Ct)).ShouldBeFalse("the old process's fence is stale");
        (await Leases(old).RenewLeaseAsync(Lease, Ct)).ShouldBeFalse();
        (await restarted.CommitAsync(End(queued.RunId, "ok"), Ct)).ShouldBeTrue();
    }

    [Fact]
    public async Task ReleaseLeaseAsync_NothingOpen_RemovesTheLease_ElseExpiresItForASurvivorAtOnce()
    {
        var idle = await NodeAsync("node-idle");
        var (busy, _, _) = await NodeWithRunsAsync("node-busy");

        await Leases(idle).ReleaseLeaseAsync(Ct);
        await Leases(busy).ReleaseLeaseAsync(Ct);

        (await RawScalarAsync<long>("SELECT COUNT(*) FROM nodes WHERE node_id = 'node-idle'")).ShouldBe(0);
        var survivor = await NodeAsync("node-b");
        (await Leases(survivor).ExpiredLeasesAsync(Ct)).ShouldHaveSingleItem().NodeId.ShouldBe("node-busy");
    }

    [Fact]
    public async Task RequestCancelAsync_RunOpenOnAnotherNode_ReachesItsOwnerOnly_AndNotOnceItEnded()
    {
        var (a, running, queued) = await NodeWithRunsAsync("node-a");
        var b = await NodeAsync("node-b");

        (await Leases(b).RequestCancelAsync(running.RunId, "cancelled by DELETE on node-b", Ct)).ShouldBeTrue();
        (await Leases(b).RequestCancelAsync(running.RunId, "a second DELETE", Ct)).ShouldBeTrue("still open");

        (await Leases(a).CancelRequestsAsync(Ct)).ShouldBe([new CancelRequest(running.RunId, "cancelled by DELETE on node-b")], "the first reason is kept");
        (await Leases(b).CancelRequestsAsync(Ct)).ShouldBeEmpty("node-b owns none of them");

        (await a.CommitAsync(End(running.RunId, "cancelled"), Ct)).ShouldBeTrue();
        (await Leases(a).CancelRequestsAsync(Ct)).ShouldBeEmpty("an ended run asks nothing more");
        (await Leases(b).RequestCancelAsync(running.RunId, "too late", Ct)).ShouldBeFalse("it ended first");
        (await Leases(b).RequestCancelAsync("run_unknown", "no such run", Ct)).ShouldBeFalse();
        (await a.FindRunAsync(queued.RunId, Ct)).ShouldNotBeNull().State.ShouldBe("queued", "a request names one run");
    }

    /// <summary>A node with a lease, one run it is running and one still queued.</summary>
    private async Task<(IGuardStore Node, StoredRun Running, StoredRun Queued)> NodeWithRunsAsync(string nodeId)
    {
        var node = await NodeAsync(nodeId);
        var running = await AdmitAsync(node, "queued");
        (await node.CommitAsync(new RunTransition { Move = new RunStateChange(running.RunId, "running") }, Ct)).ShouldBeTrue();
        var queued = await AdmitAsync(node, "queued");
        return (node, running, queued);
    }

    private async Task<IGuardStore> NodeAsync(string nodeId)
    {
        var store = await OpenAsync();
        (await Leases(store).AcquireLeaseAsync(nodeId, new NodeServes(["wasm"], ["python.wasm"]), Lease, Ct)).ShouldNotBeNull();
        return store;
    }

    /// <summary>Admits a run as a node does: its row, and the request and decision records that make it open in the audit.</summary>
    private static async Task<StoredRun> AdmitAsync(IGuardStore store, string state)
    {
        var run = new StoredRun
        {
            RunId = "run_" + Guid.NewGuid().ToString("N"),
            AgentId = Agent,
            CredentialId = "cred_1",
            Plan = "{\"language\":\"python\"}",
            State = state,
            CreatedAt = Some.Now,
            ExpiresAt = Some.Now.AddMinutes(15),
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

    private Task<int> ExpireAsync(string nodeId) =>
        RawAsync("UPDATE nodes SET lease_until = clock_timestamp() - interval '1 second' WHERE node_id = @node", ("node", nodeId));

    private RunGuard Guard(IGuardStore store, string nodeId) =>
        new(store, new GuardOptions { NodeId = nodeId }, NullAlertSink.Instance, Clock, NullLogger<RunGuard>.Instance);

    private static INodeLeases Leases(IGuardStore store) => (INodeLeases)store;
}
