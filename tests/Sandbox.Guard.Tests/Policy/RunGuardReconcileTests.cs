using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Guard.Alerts;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Tests.Store;

namespace Sandbox.Guard.Tests.Policy;

/// <summary>Start-up reconciliation closes approvals that can never be released, and only those.</summary>
public sealed class RunGuardReconcileTests : TempDatabase
{
    [Fact]
    public async Task ReconcileAsync_PendingApprovalOfARunThatHasAResult_IsExpired()
    {
        var store = await OpenAsync();
        var agent = Some.Agent();
        await store.CreateAgentAsync(agent, Some.Key(agent), Some.Admin("agent_created", agent.Id), Ct);
        var ghost = Some.Approval(agent);
        await store.CreateApprovalAsync(ghost, Ct);
        await store.AppendAsync(Some.Entry(AuditKinds.Result, ghost.RunId, "rejected", agent.Id), Ct);
        var elsewhere = Some.Approval(agent);
        await store.CreateApprovalAsync(elsewhere, Ct);
        await store.AppendAsync(new AuditEntry { Kind = AuditKinds.Request, AgentId = agent.Id, RunId = elsewhere.RunId, Status = "received", Data = new JsonObject { ["node"] = "another-node" } }, Ct);
        await store.AppendAsync(new AuditEntry { Kind = AuditKinds.Decision, AgentId = agent.Id, RunId = elsewhere.RunId, Status = "pending" }, Ct);
        var guard = new RunGuard(store, new GuardOptions { NodeId = "this-node" }, NullAlertSink.Instance, Clock, NullLogger<RunGuard>.Instance);

        await guard.ReconcileAsync(skip: null, Ct);

        (await store.FindApprovalAsync(ghost.Id, Ct)).ShouldNotBeNull().State.ShouldBe(ApprovalState.Expired, "its run already ended: nobody may approve it");
        (await store.FindApprovalAsync(elsewhere.Id, Ct)).ShouldNotBeNull().State.ShouldBe(ApprovalState.Pending, "another node's run may still be waiting for it");
        (await store.VerifyAuditAsync(Ct)).Intact.ShouldBeTrue();
    }
}
