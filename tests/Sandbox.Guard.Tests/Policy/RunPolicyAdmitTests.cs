using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Alerts;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;
using Sandbox.Guard.Tests.Store;

namespace Sandbox.Guard.Tests.Policy;

/// <summary>
/// The guard's admission arithmetic against a real store: slots for approved runs, and CPU reserved by runs
/// in flight. (The end-to-end versions, through the service and Docker, are in the service's Guard tests.)
/// </summary>
public sealed class RunPolicyAdmitTests : TempDatabase
{
    [Fact]
    public async Task AdmitAsync_ApprovedRunsWaitingForASlot_CountTowardsTheConcurrencyCap()
    {
        var (guard, principal) = await GuardAsync(Some.Agent() with { MaxConcurrentRuns = 2 });

        var first = await guard.AdmitAsync(principal, Plan(), Ct, approvedWaiting: 1);
        var second = await guard.AdmitAsync(principal, Plan(), Ct, approvedWaiting: 1);

        first.Kind.ShouldBe(AdmissionKind.Allowed);
        second.Kind.ShouldBe(AdmissionKind.Throttled, "one slot is taken and the other is the approved run's");
        second.Cap.ShouldBe(CapNames.Concurrency);
        second.Reason.ShouldNotBeNull().ShouldContain("1 approved run(s) waiting for a slot");
    }

    [Fact]
    public async Task TryReleaseAsync_WithEverySlotTaken_IsNull_UntilARunCompletes()
    {
        var (guard, principal) = await GuardAsync(Some.Agent() with { MaxConcurrentRuns = 1 });
        var running = (await guard.AdmitAsync(principal, Plan(), Ct)).Plan.ShouldNotBeNull();

        var whileRunning = await guard.TryReleaseAsync(principal, Plan(), Ct);
        await guard.CompleteAsync(principal, running, Ok(running, cpuMs: 10), heldSlot: true, extra: null, Ct);
        var afterwards = await guard.TryReleaseAsync(principal, Plan(), Ct);

        whileRunning.ShouldBeNull();
        afterwards.ShouldNotBeNull();
    }

    [Fact]
    public async Task AdmitAsync_RunsInFlight_ReserveTheirCpu_SoTogetherTheyFitTheBudget()
    {
        // 1.5 s a day and 1 s per run: the first holds 1 s, the second gets the other 0.5 s, the third nothing.
        var (guard, principal) = await GuardAsync(Some.Agent() with { DailyCpuSeconds = 1.5, MaxConcurrentRuns = 5 });

        var first = (await guard.AdmitAsync(principal, Plan(), Ct)).Plan.ShouldNotBeNull();
        var second = (await guard.AdmitAsync(principal, Plan(), Ct)).Plan.ShouldNotBeNull();
        var third = await guard.AdmitAsync(principal, Plan(), Ct);

        first.Limits.CpuTimeMs.ShouldBe(1000);
        second.Limits.CpuTimeMs.ShouldBe(500);
        third.Kind.ShouldBe(AdmissionKind.Throttled);
        third.Cap.ShouldBe(CapNames.DailyCpuSeconds);
        third.Reason.ShouldNotBeNull().ShouldContain("in flight");
        third.RetryAfterSeconds.ShouldBe(1);

        // The first used 200 ms of its 1000: what it did not use comes back, what it used is charged.
        await guard.CompleteAsync(principal, first, Ok(first, cpuMs: 200), heldSlot: true, extra: null, Ct);
        var fourth = (await guard.AdmitAsync(principal, Plan(), Ct)).Plan.ShouldNotBeNull();
        fourth.Limits.CpuTimeMs.ShouldBe(1500 - 200 - 500);
    }

    [Fact]
    public async Task AdmitAsync_ProfileWithACompileStep_ReservesItsCpuWithTheRuns()
    {
        // 26 s a day; a C run may use 5 s and its compile step 20 s: the first holds 25 s, the second gets the last second.
        var (guard, principal) = await GuardAsync(Some.Agent() with { DailyCpuSeconds = 26, MaxConcurrentRuns = 5 });

        var first = (await guard.AdmitAsync(principal, CompiledPlan(), Ct)).Plan.ShouldNotBeNull();
        var second = (await guard.AdmitAsync(principal, CompiledPlan(), Ct)).Plan.ShouldNotBeNull();
        var third = await guard.AdmitAsync(principal, CompiledPlan(), Ct);

        first.Limits.CpuTimeMs.ShouldBe(5_000);
        first.Profile.Compile.ShouldNotBeNull().Limits.CpuTimeMs.ShouldBe(20_000);
        second.Profile.Compile.ShouldNotBeNull().Limits.CpuTimeMs.ShouldBe(1_000, "the compiler may not use more than the budget has left");
        second.Limits.CpuTimeMs.ShouldBe(1);
        third.Kind.ShouldBe(AdmissionKind.Throttled);
        third.Cap.ShouldBe(CapNames.DailyCpuSeconds);
    }

    [Fact]
    public async Task CompleteAsync_ChargesTheCompileStepsCpu_AndHandsBackItsReservation()
    {
        var (guard, principal) = await GuardAsync(Some.Agent() with { DailyCpuSeconds = 26, MaxConcurrentRuns = 5 });
        var plan = (await guard.AdmitAsync(principal, CompiledPlan(), Ct)).Plan.ShouldNotBeNull();

        var budgets = await guard.CompleteAsync(principal, plan, Ok(plan, cpuMs: 100) with { Usage = new ResourceUsage { CpuMs = 100, CompileCpuMs = 900 } }, heldSlot: true, extra: null, Ct);

        budgets.Single(b => b.Name == CapNames.DailyCpuSeconds).Used.ShouldBe(1.0, "100 ms of the program and 900 ms of its compiler");
        var next = (await guard.AdmitAsync(principal, CompiledPlan(), Ct)).Plan.ShouldNotBeNull();
        next.Limits.CpuTimeMs.ShouldBe(5_000, "the first run's reservation came back once it was charged");
    }

    [Fact]
    public async Task CompleteAsync_SandboxError_ChargesNoCpu()
    {
        // Our infrastructure failed the run (Docker died under it, a worker broke): the agent's budget does not pay for it.
        var (guard, principal) = await GuardAsync(Some.Agent() with { DailyCpuSeconds = 26, MaxConcurrentRuns = 5 });
        var plan = (await guard.AdmitAsync(principal, Plan(), Ct)).Plan.ShouldNotBeNull();
        var failed = RunResult.SandboxError(plan.RunId, "the Docker daemon stopped answering") with { Usage = new ResourceUsage { CpuMs = 3_000 } };

        var budgets = await guard.CompleteAsync(principal, plan, failed, heldSlot: true, extra: null, Ct);

        budgets.Single(b => b.Name == CapNames.DailyCpuSeconds).Used.ShouldBe(0.0);
    }

    [Fact]
    public async Task AdmitAndComplete_ChargeWhatTheRunStores_AndPastTheDailyMiBTheNextIsThrottled()
    {
        // 1 MiB a day; a run of 600,000 bytes of code, stdin and files, then 500,000 bytes of output and artifacts.
        var (guard, principal) = await GuardAsync(Some.Agent() with { DailyStoredMb = 1, MaxConcurrentRuns = 5 });
        var bulky = Plan() is var p ? p with { Request = p.Request with
        {
            Code = new string('x', 400_000),
            Stdin = new string('i', 100_000),
            Files = [new InputFile { Path = "data.csv", Content = new string('f', 100_000) }],
        } } : null!;
        var plan = (await guard.AdmitAsync(principal, bulky, Ct)).Plan.ShouldNotBeNull();
        (await guard.Store.GetUsageAsync(principal.Agent.Id, CapLedger.Day(Clock.GetUtcNow()), Ct)).StoredBytes.ShouldBe(600_000, "the request, at admission");

        var result = Ok(plan, cpuMs: 10) with
        {
            Stdout = new string('o', 200_000),
            Stderr = new string('e', 100_000),
            Artifacts = [new RunArtifact { Path = "plot.png", SizeBytes = 200_000, Sha256 = new string('0', 64), MediaType = "image/png" }],
        };
        var budgets = await guard.CompleteAsync(principal, plan, result, heldSlot: true, extra: null, Ct);

        budgets.Single(b => b.Name == CapNames.DailyStoredMb).Used.ShouldBe(1_100_000 / 1048576.0, 0.001, "and the output and artifacts at the end");
        var next = await guard.AdmitAsync(principal, Plan(), Ct);
        next.Kind.ShouldBe(AdmissionKind.Throttled);
        next.Cap.ShouldBe(CapNames.DailyStoredMb);
        next.Reason.ShouldNotBeNull().ShouldContain("1 MiB");
    }

    [Fact]
    public async Task CompleteAsync_SandboxError_StillChargesWhatItsOutputStores()
    {
        // Free in CPU (our fault), but the bytes it left in the store take the disk all the same.
        var (guard, principal) = await GuardAsync(Some.Agent() with { MaxConcurrentRuns = 5 });
        var plan = (await guard.AdmitAsync(principal, Plan(), Ct)).Plan.ShouldNotBeNull();
        var before = (await guard.Store.GetUsageAsync(principal.Agent.Id, CapLedger.Day(Clock.GetUtcNow()), Ct)).StoredBytes;
        var failed = RunResult.SandboxError(plan.RunId, "the Docker daemon stopped answering") with { Stdout = new string('o', 5_000), Usage = new ResourceUsage { CpuMs = 3_000 } };

        await guard.CompleteAsync(principal, plan, failed, heldSlot: true, extra: null, Ct);

        var usage = await guard.Store.GetUsageAsync(principal.Agent.Id, CapLedger.Day(Clock.GetUtcNow()), Ct);
        usage.StoredBytes.ShouldBe(before + 5_000);
        usage.CpuMs.ShouldBe(0);
    }

    [Fact]
    public async Task AdmitAsync_Throttled4MiBRequest_IsAuditedByHashAndSizeOnly()
    {
        var (guard, principal) = await GuardAsync(Some.Agent() with { MaxConcurrentRuns = 1 });
        (await guard.AdmitAsync(principal, Plan(), Ct)).Kind.ShouldBe(AdmissionKind.Allowed);
        var big = Plan() is var p ? p with { Request = p.Request with { Code = new string('x', 4 * 1024 * 1024) } } : null!;
        var before = DatabaseBytes();

        var throttled = await guard.AdmitAsync(principal, big, Ct);

        throttled.Kind.ShouldBe(AdmissionKind.Throttled);
        var growth = DatabaseBytes() - before;
        growth.ShouldBeLessThan(64 * 1024, $"one throttled request grew the database by {growth} bytes");
        var request = (await guard.Store.QueryAuditAsync(new Sandbox.Guard.Audit.AuditQuery { RunId = big.RunId, Kind = "request" }, Ct)).ShouldHaveSingleItem();
        request.Data.Length.ShouldBeLessThan(2048);
        request.Data.ShouldContain("\"codeBytes\":4194304");
    }

    private static readonly string[] s_databaseSuffixes = ["", "-wal"];

    private long DatabaseBytes() =>
        s_databaseSuffixes.Select(suffix => new FileInfo(DatabasePath + suffix)).Sum(f => f.Exists ? f.Length : 0);

    private static RunPlan CompiledPlan()
    {
        var plan = Plan();
        var compileLimits = plan.Limits with { CpuTimeMs = 20_000, WallTimeMs = 30_000 };
        return plan with
        {
            Limits = plan.Limits with { CpuTimeMs = 5_000 },
            Profile = plan.Profile with
            {
                Name = "python",
                Compile = new CompileStep { Command = ["gcc", "main.c"], Artifact = "a.out", Limits = compileLimits },
            },
        };
    }

    private async Task<(PolicyHarness Guard, Principal Principal)> GuardAsync(Agent agent)
    {
        var store = await OpenAsync();
        var key = Some.Key(agent);
        await store.CreateAgentAsync(agent, key, Some.Admin("agent_created", agent.Id), Ct);
        var guard = new PolicyHarness(store, new GuardOptions { NodeId = "test" }, Clock);
        return (guard, new Principal(agent, key));
    }

    private static RunPlan Plan() =>
        Some.Plan(new RunRequest { Language = "python", Code = $"print({Guid.NewGuid():N})", Purpose = "admission test" });

    private static RunResult Ok(RunPlan plan, long cpuMs) => new()
    {
        RunId = plan.RunId,
        Status = RunStatus.Ok,
        Usage = new ResourceUsage { CpuMs = cpuMs, WallMs = cpuMs },
    };
}
