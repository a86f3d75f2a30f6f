using Sandbox.Guard.Policy;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Tests.Runs;

/// <summary>
/// <see cref="RunLifecycle.ReplayAsync"/> with a fake backend: a replay is the operator's act, so it runs even when the
/// agent's only slot is taken, holds none, charges nothing, and is compared with the original it names.
/// </summary>
public sealed class RunLifecycleReplayTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ReplayAsync_AgentsOnlySlotTaken_RunsAnywayHoldsNoSlotChargesNothing_AndReportsTheDifference()
    {
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync(maxConcurrentRuns: 1);
        var original = await h.SubmitAsync(agent);
        (await h.Backend.NextStartedAsync()).ShouldBe(original.Id);
        h.Backend.Finish(original.Id, "0.25\n", cpuMs: 40);
        await original.Completed.WaitAsync(Ct);
        var busy = await h.SubmitAsync(agent);
        (await h.Backend.NextStartedAsync()).ShouldBe(busy.Id);
        var usage = await h.Store.GetUsageAsync(agent.Agent.Id, CapLedger.Day(h.Time.GetUtcNow()), Ct);

        var replaying = h.Lifecycle.ReplayAsync(original.Id, "admin:alice", Ct);
        var replayId = await h.Backend.NextStartedAsync();
        h.InFlight(agent).ShouldBe(1, "only the agent's own running run holds a slot");
        h.Backend.Finish(replayId, "0.75\n", cpuMs: 40);
        var (view, problem) = await replaying;

        problem.ShouldBeNull();
        view.ShouldNotBeNull();
        view.Original.ShouldBe(original.Id);
        view.Replay.ShouldBe(replayId);
        view.Identical.ShouldBeFalse();
        view.Differences.ShouldHaveSingleItem().Diff.ShouldBe(["-0.25", "+0.75"]);
        (await h.Store.GetUsageAsync(agent.Agent.Id, CapLedger.Day(h.Time.GetUtcNow()), Ct)).ShouldBe(usage, "nothing charged to the agent");
        (await h.RowAsync(replayId)).ShouldNotBeNull().Status.ShouldBe("ok");
        h.Backend.Finish(busy.Id);
    }

    [Fact]
    public async Task ReplayAsync_OriginalStillRunning_IsRunNotCompleted_AndRunsNothingMore()
    {
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync();
        var running = await h.SubmitAsync(agent);
        (await h.Backend.NextStartedAsync()).ShouldBe(running.Id);

        var (view, problem) = await h.Lifecycle.ReplayAsync(running.Id, "admin:alice", Ct);

        view.ShouldBeNull();
        problem.ShouldNotBeNull().Status.ShouldBe(409);
        problem.Code.ShouldBe("run_not_completed");
        problem.Detail.ShouldContain(running.Id);
        h.Backend.Executions.ShouldBe(1, "only the original");
        h.Backend.Finish(running.Id);
    }

    [Fact]
    public async Task ReplayAsync_UnknownRun_IsRunNotFoundNamingIt_AndRunsNothing()
    {
        await using var h = await LifecycleHarness.StartAsync();

        var (view, problem) = await h.Lifecycle.ReplayAsync("run_missing", "admin:alice", Ct);

        view.ShouldBeNull();
        problem.ShouldNotBeNull().Status.ShouldBe(404);
        problem.Code.ShouldBe("run_not_found");
        problem.Detail.ShouldContain("run_missing");
        h.Backend.Executions.ShouldBe(0);
    }
}
