using Sandbox.Core.Runs;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Tests.Runs;

/// <summary>
/// The run lifecycle's transitions with a fake backend, a fake clock and a real store: each step is one transaction
/// (the row, the slot, the records agree after it, or nothing of it happened), and the races the end-to-end tests found
/// (an approved run and a new one competing for one slot, a failed write at admission or at the end, a retried key while
/// the run is going) are pinned here in milliseconds.
/// </summary>
public sealed class RunLifecycleTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SubmitAsync_AllowedRun_GoesQueuedRunningCompleted_WithTheRowAndRecordsAtEachStep()
    {
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync();

        var entry = await h.SubmitAsync(agent);
        var queuedRow = (await h.RowAsync(entry.Id)).ShouldNotBeNull("the row is written with the admission");
        (await h.Backend.NextStartedAsync()).ShouldBe(entry.Id);
        var runningRow = (await h.RowAsync(entry.Id)).ShouldNotBeNull();
        entry.State.ShouldBe(RunState.Running);
        h.InFlight(agent).ShouldBe(1);
        h.Backend.Finish(entry.Id, "hello\n", cpuMs: 40);
        await entry.Completed.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        queuedRow.State.ShouldBeOneOf("queued", "running");
        runningRow.State.ShouldBe("running", "queued -> running is recorded before the code starts");
        var row = (await h.RowAsync(entry.Id)).ShouldNotBeNull();
        row.State.ShouldBe("completed");
        row.Status.ShouldBe("ok");
        row.View.ShouldNotBeNull().ShouldContain("hello");
        entry.Result.ShouldNotBeNull().Status.ShouldBe(RunStatus.Ok);
        h.InFlight(agent).ShouldBe(0, "the slot comes back with the end");
        (await h.Store.QueryAuditAsync(new AuditQuery { RunId = entry.Id }, Ct)).Select(r => r.Kind + ":" + r.Status)
            .ShouldBe(["request:received", "decision:allowed", "receipt:planned", "result:ok"]);
        (await h.Store.GetUsageAsync(agent.Agent.Id, CapLedger.Day(h.Time.GetUtcNow()), Ct)).ShouldBe(new Sandbox.Guard.Store.Usage(1, 40, StoredBytes: 8 + 6), "what it stored: 8 bytes of code at admission, 6 of output at the end");
    }

    [Fact]
    public async Task Completed_TheKeptRunHoldsNoneOfWhatItRan_AndTheStoreStillHasIt()
    {
        // A completed run is kept in memory for ResultRetention; its code, stdin and files are not: an 8 MiB request held
        // about 50 MB there, counted against no cap, so one agent's stream of large requests piled up in the service.
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync();
        var code = "print('" + new string('x', 100_000) + "')";
        var request = LifecycleHarness.Request("python-approve") with
        {
            Code = code,
            Stdin = "some stdin",
            Files = [new InputFile { Path = "helper.py", Content = "VALUE = 1" }],
        };
        var entry = (await h.Lifecycle.SubmitAsync(agent, request, rawOutput: false, null, null, Ct)).Entry.ShouldNotBeNull();
        var approvalId = entry.Approval.ShouldNotBeNull().Id;
        (await h.Admin.DecideAsync(approvalId, approve: true, "operator", note: null, Ct)).Value.ShouldNotBeNull();
        await h.Lifecycle.WatchAsync(Ct);
        (await h.Backend.NextStartedAsync()).ShouldBe(entry.Id);
        entry.Plan.Request.Code.ShouldBe(code, "a run still going holds its code");
        h.Backend.Finish(entry.Id);
        await entry.Completed.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        entry.Plan.Request.Code.ShouldBeEmpty();
        entry.Plan.Request.Stdin.ShouldBeNull();
        entry.Plan.Request.Files.ShouldBeNull();
        entry.Plan.Request.Purpose.ShouldBe("lifecycle test", "what the views show stays");
        entry.Plan.Profile.Name.ShouldBe("python-approve");
        var kept = entry.Approval.ShouldNotBeNull();
        kept.Id.ShouldBe(approvalId);
        kept.Code.ShouldBeEmpty();
        kept.Stdin.ShouldBeNull();
        kept.Files.ShouldAllBe(f => f.Content.Length == 0);
        h.InFlight(agent).ShouldBe(0, "the slot still came back");

        // Nothing lost: the store has what ran, with its receipt and approval.
        var stored = (await h.Store.FindApprovalAsync(approvalId, Ct)).ShouldNotBeNull();
        stored.Code.ShouldBe(code);
        stored.Stdin.ShouldBe("some stdin");
        stored.Files.ShouldHaveSingleItem().Content.ShouldBe("VALUE = 1");
        (await h.Store.QueryAuditAsync(new AuditQuery { RunId = entry.Id, Kind = AuditKinds.Request }, Ct)).ShouldHaveSingleItem()
            .Data.ShouldContain(AuditRecords.Sha256(code));
    }

    [Fact]
    public async Task WatchAsync_ApprovedRun_IsReleasedQueuedThenRuns()
    {
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync();

        var entry = await h.SubmitAsync(agent, "python-approve");
        entry.State.ShouldBe(RunState.PendingApproval);
        (await h.RowAsync(entry.Id)).ShouldNotBeNull().State.ShouldBe("pending_approval");
        h.InFlight(agent).ShouldBe(0, "a run waiting for a human holds no slot");
        (await h.Admin.DecideAsync(entry.Approval.ShouldNotBeNull().Id, approve: true, "operator", note: null, Ct)).Value.ShouldNotBeNull();
        await h.Lifecycle.WatchAsync(Ct);

        (await h.Backend.NextStartedAsync()).ShouldBe(entry.Id);
        h.InFlight(agent).ShouldBe(1);
        h.Backend.Finish(entry.Id);
        await entry.Completed.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        entry.Result.ShouldNotBeNull().Status.ShouldBe(RunStatus.Ok);
        h.InFlight(agent).ShouldBe(0);
        (await h.Store.QueryAuditAsync(new AuditQuery { RunId = entry.Id, Kind = AuditKinds.Receipt }, Ct)).ShouldHaveSingleItem().Data.ShouldContain("operator");
    }

    [Fact]
    public async Task CancelAsync_WhilePendingApproval_ClosesTheApprovalInTheSameTransactionAsTheEnd()
    {
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync();
        var entry = await h.SubmitAsync(agent, "python-approve");
        var approvalId = entry.Approval.ShouldNotBeNull().Id;

        // The end cannot be written: the approval is not closed either (nothing half-recorded).
        await using (await h.FailAsync("BEFORE UPDATE ON runs WHEN NEW.state = 'completed'"))
        {
            await h.Lifecycle.CancelAsync(entry.Id, agent, "not needed", TimeSpan.FromSeconds(5));
        }

        entry.RecordFailed.ShouldBeTrue();
        (await h.Store.FindApprovalAsync(approvalId, Ct)).ShouldNotBeNull().State.ShouldBe(Sandbox.Guard.Approvals.ApprovalState.Pending);

        var second = await h.SubmitAsync(agent, "python-approve");
        await h.Lifecycle.CancelAsync(second.Id, agent, "not needed", TimeSpan.FromSeconds(5));

        (await h.Store.FindApprovalAsync(second.Approval.ShouldNotBeNull().Id, Ct)).ShouldNotBeNull().State.ShouldBe(Sandbox.Guard.Approvals.ApprovalState.Expired);
        (await h.Store.QueryAuditAsync(new AuditQuery { RunId = second.Id }, Ct)).Select(r => r.Kind + ":" + r.Status)
            .ShouldBe(["request:received", "decision:pending", "approval:expired", "result:rejected"]);
        (await h.RowAsync(second.Id)).ShouldNotBeNull().Status.ShouldBe("rejected");
    }

    [Fact]
    public async Task CancelAsync_WhileQueued_EndsCancelled_AndGivesTheSlotBack()
    {
        // One service slot: the second run waits in the queue behind the first.
        await using var h = await LifecycleHarness.StartAsync(serviceSlots: 1);
        var agent = await h.AgentAsync(maxConcurrentRuns: 2);
        var first = await h.SubmitAsync(agent);
        await h.Backend.NextStartedAsync();
        var second = await h.SubmitAsync(agent);
        h.InFlight(agent).ShouldBe(2);

        (await h.Lifecycle.CancelAsync(second.Id, agent, "changed my mind", TimeSpan.FromSeconds(5))).ShouldBe(CancelOutcome.Cancelled);

        second.Result.ShouldNotBeNull().Status.ShouldBe(RunStatus.Cancelled);
        h.InFlight(agent).ShouldBe(1, "only the running run holds a slot");
        (await h.RowAsync(second.Id)).ShouldNotBeNull().Status.ShouldBe("cancelled");
        h.Backend.Finish(first.Id);
        await first.Completed.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        h.Backend.Executions.ShouldBe(1, "the cancelled run never reached the backend");
    }

    [Fact]
    public async Task CancelAsync_WhileRunning_KillsIt_EndsCancelled_AndGivesTheSlotBack()
    {
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync();
        var entry = await h.SubmitAsync(agent);
        await h.Backend.NextStartedAsync();

        (await h.Lifecycle.CancelAsync(entry.Id, agent, "stop", TimeSpan.FromSeconds(5))).ShouldBe(CancelOutcome.Cancelled);

        entry.Result.ShouldNotBeNull().Status.ShouldBe(RunStatus.Cancelled);
        h.InFlight(agent).ShouldBe(0);
        (await h.RowAsync(entry.Id)).ShouldNotBeNull().Status.ShouldBe("cancelled");
    }

    [Fact]
    public async Task SubmitAsync_StoreFailsAtAdmission_Is503StoreUnavailable_AndHoldsNothing()
    {
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync(maxConcurrentRuns: 1);

        await using (await h.FailAsync("BEFORE INSERT ON runs"))
        {
            for (var i = 0; i < 3; i++)
            {
                var refused = await h.Lifecycle.SubmitAsync(agent, LifecycleHarness.Request(), rawOutput: false, cancellationToken: Ct);
                refused.Problem.ShouldNotBeNull().Code.ShouldBe("store_unavailable");
                refused.Problem.Status.ShouldBe(503);
            }

            h.InFlight(agent).ShouldBe(0, "a failed admission gives its slot back (it locked the agent out with 429 before)");
        }

        (await h.Store.GetUsageAsync(agent.Agent.Id, CapLedger.Day(h.Time.GetUtcNow()), Ct)).Runs.ShouldBe(0, "the run's charge was in the transaction that failed");
        (await h.Store.QueryAuditAsync(new AuditQuery { Kind = AuditKinds.Receipt }, Ct)).ShouldBeEmpty("no receipt for a run that was never recorded");
        var entry = await h.SubmitAsync(agent);
        await h.Backend.NextStartedAsync();
        h.Backend.Finish(entry.Id);
        await entry.Completed.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        entry.Result.ShouldNotBeNull().Status.ShouldBe(RunStatus.Ok);
    }

    [Fact]
    public async Task Finish_StoreFailsAtCompletion_IsNeverAnsweredOk_AndHoldsNothing()
    {
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync();
        var entry = await h.SubmitAsync(agent);
        await h.Backend.NextStartedAsync();

        await using (await h.FailAsync("BEFORE UPDATE ON runs WHEN NEW.state = 'completed'"))
        {
            h.Backend.Finish(entry.Id, cpuMs: 300);
            await entry.Completed.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        }

        entry.RecordFailed.ShouldBeTrue();
        var result = entry.Result.ShouldNotBeNull();
        result.Status.ShouldBe(RunStatus.SandboxError, "the store does not know this end, so the caller is not told ok");
        result.Message.ShouldNotBeNull().ShouldContain("store_unavailable");
        (await h.RowAsync(entry.Id)).ShouldNotBeNull().State.ShouldBe("running", "the row is as it was: a restart reconciles it");
        (await h.Store.QueryAuditAsync(new AuditQuery { RunId = entry.Id, Kind = AuditKinds.Result }, Ct)).ShouldBeEmpty("the result record was in the failed transaction");
        (await h.Store.GetUsageAsync(agent.Agent.Id, CapLedger.Day(h.Time.GetUtcNow()), Ct)).CpuMs.ShouldBe(0);
        h.InFlight(agent).ShouldBe(0, "the slot comes back even when the end could not be written");
    }

    [Fact]
    public async Task ShutdownAsync_CancelsQueuedAtOnce_GivesRunningTheGrace_ThenKillsThem()
    {
        await using var h = await LifecycleHarness.StartAsync(serviceSlots: 1);
        var agent = await h.AgentAsync(maxConcurrentRuns: 3);
        var running = await h.SubmitAsync(agent);
        await h.Backend.NextStartedAsync();
        var queued = await h.SubmitAsync(agent);

        var shutdown = h.Lifecycle.ShutdownAsync(Ct);
        await queued.Completed.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        queued.Result.ShouldNotBeNull().Status.ShouldBe(RunStatus.Cancelled);
        running.State.ShouldBe(RunState.Running, "a running run gets the grace period");
        var refused = await h.Lifecycle.SubmitAsync(agent, LifecycleHarness.Request(), rawOutput: false, cancellationToken: Ct);
        refused.Problem.ShouldNotBeNull().Code.ShouldBe("shutting_down");

        // Past the 20 s grace on the fake clock: the running run is killed, and shutdown returns once it is recorded.
        h.Time.Advance(TimeSpan.FromSeconds(21));
        await shutdown.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        running.Result.ShouldNotBeNull().Status.ShouldBe(RunStatus.Cancelled);
        running.Result.Message.ShouldNotBeNull().ShouldContain("grace period");
        h.InFlight(agent).ShouldBe(0);
        (await h.RowAsync(running.Id)).ShouldNotBeNull().State.ShouldBe("completed");
        (await h.RowAsync(queued.Id)).ShouldNotBeNull().State.ShouldBe("completed");
    }

    [Fact]
    public async Task ApprovedRunWaitingForASlot_AndANewRun_TheApprovedRunGetsTheSlot()
    {
        // The agent has one slot. B waits for a human (holding no slot) while A runs; B is approved while A holds the slot;
        // once A ends, C, new, must not take the slot B waits for.
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync(maxConcurrentRuns: 1);
        var b = await h.SubmitAsync(agent, "python-approve");
        var a = await h.SubmitAsync(agent);
        await h.Backend.NextStartedAsync();
        (await h.Admin.DecideAsync(b.Approval.ShouldNotBeNull().Id, approve: true, "operator", note: null, Ct)).Value.ShouldNotBeNull();
        await h.Lifecycle.WatchAsync(Ct);
        RunLifecycle.View(b).State.ShouldBe("queued", "approved, waiting for the agent's slot");

        h.Backend.Finish(a.Id);
        await a.Completed.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var c = await h.Lifecycle.SubmitAsync(agent, LifecycleHarness.Request(), rawOutput: false, cancellationToken: Ct);
        await h.Lifecycle.WatchAsync(Ct);

        c.Problem.ShouldNotBeNull().Code.ShouldBe("cap_exceeded");
        c.Problem.Detail.ShouldContain("approved run(s) waiting");
        (await h.Backend.NextStartedAsync()).ShouldBe(b.Id);
        h.InFlight(agent).ShouldBe(1);
        var d = await h.Lifecycle.SubmitAsync(agent, LifecycleHarness.Request(), rawOutput: false, cancellationToken: Ct);
        d.Problem.ShouldNotBeNull().Code.ShouldBe("cap_exceeded", "B holds the one slot now");
        h.Backend.Finish(b.Id);
        await b.Completed.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        h.InFlight(agent).ShouldBe(0);
    }

    /// <summary>
    /// Attack: an agent with one slot, busy, sends 200 more runs and 50 for a profile that does not exist. Each is refused
    /// (over its concurrency cap, or invalid), and each refusal wrote two audit records, without any cap: a loop of them
    /// grew the store by about 1.5 KB each, at 1,900 a second through the service. Expected: every one still refused
    /// with its problem; the first 60 of the agent's minute recorded one by one, the rest counted by code in one
    /// <c>suppressed</c> record once the minute is over; another agent's refusals still recorded.
    /// </summary>
    [Fact]
    public async Task SubmitAsync_RefusalsPastTheAgentsAllowanceInAMinute_AreCountedInOneRecord_AndOthersStillRecorded()
    {
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync(maxConcurrentRuns: 1);
        var other = await h.AgentAsync(name: "other");
        var busy = await h.SubmitAsync(agent);
        await h.Backend.NextStartedAsync();

        var problems = new List<string>();
        for (var i = 0; i < 250; i++)
        {
            var request = i % 5 == 4 ? LifecycleHarness.Request() with { Profile = "no-such-profile" } : LifecycleHarness.Request();
            problems.Add((await h.Lifecycle.SubmitAsync(agent, request, rawOutput: false, cancellationToken: Ct)).Problem.ShouldNotBeNull().Code);
        }

        (await h.Lifecycle.SubmitAsync(other, LifecycleHarness.Request() with { Profile = "no-such-profile" }, rawOutput: false, cancellationToken: Ct)).Problem.ShouldNotBeNull();

        problems.Count(p => p == "cap_exceeded").ShouldBe(200, "every refusal is still answered with its problem");
        problems.Count(p => p == "invalid_request").ShouldBe(50);
        async Task<IReadOnlyList<AuditRecord>> RecordsAsync(Principal of, string kind) =>
            await h.Store.QueryAuditAsync(new AuditQuery { AgentId = of.Agent.Id, Kind = kind }, Ct);
        (await RecordsAsync(agent, AuditKinds.Request)).Count.ShouldBe(1 + 60, "the busy run and the first 60 refusals");
        (await RecordsAsync(other, AuditKinds.Request)).Count.ShouldBe(1, "another agent's refusal is its own to record");
        (await RecordsAsync(agent, AuditKinds.Decision)).ShouldNotContain(r => r.Status == "suppressed", "the minute is not over yet");

        h.Time.Advance(TimeSpan.FromSeconds(61));
        await h.Lifecycle.WatchAsync(Ct);
        await h.Lifecycle.WatchAsync(Ct);

        var count = (await RecordsAsync(agent, AuditKinds.Decision)).Where(r => r.Status == "suppressed").ShouldHaveSingleItem();
        count.Data.ShouldContain("\"count\":190");
        count.Data.ShouldContain("\"cap_exceeded:concurrent_runs\":152");
        count.Data.ShouldContain("\"invalid_request\":38");
        (await h.Lifecycle.SubmitAsync(agent, LifecycleHarness.Request(), rawOutput: false, cancellationToken: Ct)).Problem.ShouldNotBeNull();
        (await RecordsAsync(agent, AuditKinds.Request)).Count.ShouldBe(1 + 61, "a new minute records refusals one by one again");
        h.Backend.Finish(busy.Id);
        await busy.Completed.WaitAsync(TimeSpan.FromSeconds(10), Ct);
    }

    [Fact]
    public async Task SubmitAsync_SameIdempotencyKeyWhileRunning_ReturnsTheSameRun_WhichRunsOnce()
    {
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync();
        var first = await h.SubmitAsync(agent, key: "k-1");
        await h.Backend.NextStartedAsync();

        var retry = await h.Lifecycle.SubmitAsync(agent, LifecycleHarness.Request(), rawOutput: false, "k-1", "digest-k-1", Ct);
        var other = await h.Lifecycle.SubmitAsync(agent, LifecycleHarness.Request(), rawOutput: false, "k-1", "another-body", Ct);

        retry.IsReplay.ShouldBeTrue();
        retry.Entry.ShouldBeSameAs(first);
        other.Problem.ShouldNotBeNull().Code.ShouldBe("idempotency_key_reused");
        h.Backend.Finish(first.Id);
        await first.Completed.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        h.Backend.Executions.ShouldBe(1);
        h.InFlight(agent).ShouldBe(0);
        (await h.Store.FindRunByIdempotencyKeyAsync(agent.Agent.Id + "\nk-1", Ct)).ShouldNotBeNull().RunId.ShouldBe(first.Id);
    }
}
