using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Runs;
using Sandbox.Docker.Recovery;
using Sandbox.Guard;
using Sandbox.Guard.Alerts;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Server.Hosting;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Tests.Runs;

/// <summary>
/// Start-up recovery's split between what is recorded before the service listens (containers that exited) and what is
/// followed in the background (containers still running), with a fake Docker side and a real store: reconciliation skips
/// followed runs, their slot stays held until their end is committed, the end is recorded once with the output the run
/// persisted as it streamed, and a shutdown kills and records them.
/// </summary>
public sealed class RunRecoveryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StartAsync_RunningContainer_IsFollowedInTheBackgroundAndReconciliationSkipsIt()
    {
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync(maxConcurrentRuns: 1);
        var runId = await StartedRunWithPersistedOutputAsync(h, agent, "before the crash\n");
        var (guard, recovery) = Restart(h);
        var docker = new FakeContainerRecovery(new RecoverableRun { RunId = runId, Running = true, Limits = null });

        await recovery.StartAsync(docker, await OpenAsync(guard), Ct);

        recovery.IsFollowing(runId).ShouldBeTrue("still running: followed, and start-up does not wait for it");
        (await guard.ReconcileAsync(recovery.IsFollowing, Ct)).ShouldBe(0, "a followed run is not closed as interrupted");
        (await h.RowAsync(runId)).ShouldNotBeNull().State.ShouldBe("running", "GET answers running meanwhile");
        guard.Ledger.InFlight(agent.Agent.Id).ShouldBe(1, "its agent's slot stays held while it runs");

        var prior = await docker.Started.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Encoding.UTF8.GetString(prior.Stdout.Span).ShouldBe("before the crash\n", "the output persisted as it streamed is handed to the follow");
        docker.End(Ok(runId, "before the crash\nafter\n"));
        await recovery.WhenFollowedAsync().WaitAsync(TimeSpan.FromSeconds(10), Ct);

        var row = (await h.RowAsync(runId)).ShouldNotBeNull();
        row.State.ShouldBe("completed");
        row.Status.ShouldBe("ok");
        row.View.ShouldNotBeNull().ShouldContain("before the crash\\nafter\\n");
        (await h.Store.ReadRunOutputAsync(runId, Ct)).ShouldBeEmpty("the view is now the one copy of the output");
        (await h.Store.QueryAuditAsync(new AuditQuery { RunId = runId, Kind = AuditKinds.Result }, Ct)).ShouldHaveSingleItem().Data.ShouldContain("\"recovered\":true");
        guard.Ledger.InFlight(agent.Agent.Id).ShouldBe(0, "the slot comes back once the end is committed");
        recovery.IsFollowing(runId).ShouldBeFalse();
    }

    [Fact]
    public async Task StartAsync_ExitedContainer_IsRecordedBeforeItReturns()
    {
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync();
        var runId = await StartedRunWithPersistedOutputAsync(h, agent, "partial\n");
        var (guard, recovery) = Restart(h);
        var docker = new FakeContainerRecovery(new RecoverableRun { RunId = runId, Running = false });
        docker.End(Ok(runId, "partial\n"));

        await recovery.StartAsync(docker, await OpenAsync(guard), Ct);

        recovery.Following.ShouldBe(0);
        (await h.RowAsync(runId)).ShouldNotBeNull().Status.ShouldBe("ok", "recorded before the service listens");
        (await guard.ReconcileAsync(recovery.IsFollowing, Ct)).ShouldBe(0);
        guard.Ledger.InFlight(agent.Agent.Id).ShouldBe(0, "nothing was held for a run that had already ended");
    }

    [Fact]
    public async Task StartAsync_ContainersOfACompletedRun_AreDiscarded_AnOpenRunsAreRecovered_AnUnknownRunsAreLeft()
    {
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync();
        var completed = await h.SubmitAsync(agent);
        (await h.Backend.NextStartedAsync()).ShouldBe(completed.Id);
        h.Backend.Finish(completed.Id, "done\n");
        await completed.Completed.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var open = await StartedRunWithPersistedOutputAsync(h, agent, "partial\n");
        var (guard, recovery) = Restart(h);
        var docker = new FakeContainerRecovery(
            new RecoverableRun { RunId = completed.Id, Running = false },
            new RecoverableRun { RunId = open, Running = false },
            new RecoverableRun { RunId = "run_another_stores", Running = false });
        docker.End(Ok(open, "partial\n"));

        await recovery.StartAsync(docker, await OpenAsync(guard), Ct);
        await recovery.WhenDiscardedAsync().WaitAsync(TimeSpan.FromSeconds(10), Ct);

        docker.Discarded.ShouldBe([completed.Id], "only the completed run's containers are garbage: the open one is recovered, the unknown one is another store's");
        (await h.RowAsync(open)).ShouldNotBeNull().Status.ShouldBe("ok");
        (await h.RowAsync(completed.Id)).ShouldNotBeNull().Status.ShouldBe("ok", "discarding its containers leaves its record as it was");
        await recovery.DisposeAsync();
    }

    [Fact]
    public async Task ShutdownAsync_FollowedRunPastTheGrace_IsKilledAndRecordedCancelled()
    {
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync();
        var (runId, guard, recovery) = await FollowedUntilKilledAsync(h, agent);

        await recovery.ShutdownAsync(TimeSpan.Zero).WaitAsync(TimeSpan.FromSeconds(10), Ct);

        (await h.RowAsync(runId)).ShouldNotBeNull().Status.ShouldBe("cancelled", "SIGTERM records every run, the followed ones too");
        guard.Ledger.InFlight(agent.Agent.Id).ShouldBe(0);
        await recovery.DisposeAsync();
    }

    [Fact]
    public async Task CancelAsync_FollowedRunOfTheCaller_IsKilledAndRecordedCancelledWithTheReason_AnotherAgentGetsNotFound()
    {
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync();
        var stranger = await h.AgentAsync(name: "stranger");
        var (runId, guard, recovery) = await FollowedUntilKilledAsync(h, agent);
        var lifecycle = Restarted(h, guard, recovery);

        (await lifecycle.CancelAsync(runId, stranger, "cancelled by the caller", TimeSpan.FromSeconds(10))).ShouldBe(CancelOutcome.NotFound, "only the run's own agent may cancel it");
        recovery.IsFollowing(runId).ShouldBeTrue();

        (await lifecycle.CancelAsync(runId, agent, "cancelled by the caller", TimeSpan.FromSeconds(10))).ShouldBe(CancelOutcome.Cancelled);

        var row = (await h.RowAsync(runId)).ShouldNotBeNull();
        row.Status.ShouldBe("cancelled", "DELETE reaches a run the service restarted under, as it reaches a live one");
        row.View.ShouldNotBeNull().ShouldContain("cancelled: cancelled by the caller");
        guard.Ledger.InFlight(agent.Agent.Id).ShouldBe(0);
        recovery.IsFollowing(runId).ShouldBeFalse();
        await recovery.DisposeAsync();
    }

    [Fact]
    public async Task CancelAgentAsync_RevokedAgentsFollowedRun_IsKilledAndCounted()
    {
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync();
        var (runId, guard, recovery) = await FollowedUntilKilledAsync(h, agent);
        var lifecycle = Restarted(h, guard, recovery);

        var stopped = await lifecycle.CancelAgentAsync(agent.Agent.Id, "the agent was revoked", TimeSpan.FromSeconds(10));

        stopped.ShouldBe(1, "revocation kills running code, the runs found still running after a restart too");
        var row = (await h.RowAsync(runId)).ShouldNotBeNull();
        row.Status.ShouldBe("cancelled");
        row.View.ShouldNotBeNull().ShouldContain("the agent was revoked");
        guard.Ledger.InFlight(agent.Agent.Id).ShouldBe(0);
        await recovery.DisposeAsync();
    }

    [Fact]
    public async Task FollowAsync_EndNotTold_IsClosedInterruptedOnceReconciliationHasPassed()
    {
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync();
        var runId = await StartedRunWithPersistedOutputAsync(h, agent, "x\n");
        var (guard, recovery) = Restart(h);
        var docker = new FakeContainerRecovery(new RecoverableRun { RunId = runId, Running = true });
        await recovery.StartAsync(docker, await OpenAsync(guard), Ct);
        (await guard.ReconcileAsync(recovery.IsFollowing, Ct)).ShouldBe(0);

        docker.End(null);
        await recovery.WhenFollowedAsync().WaitAsync(TimeSpan.FromSeconds(10), Ct);

        var row = (await h.RowAsync(runId)).ShouldNotBeNull();
        row.Status.ShouldBe("interrupted", "reconciliation skipped it, so the follow closes it: never left open");
        guard.Ledger.InFlight(agent.Agent.Id).ShouldBe(0);
    }

    [Fact]
    public async Task OutputJournal_RunningRunsOutput_IsPersistedWithinAFlushAndDeletedWithItsEnd()
    {
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync();
        var entry = await h.SubmitAsync(agent);
        (await h.Backend.NextStartedAsync()).ShouldBe(entry.Id);
        entry.Write(OutputStreamKind.Stdout, "one\n"u8);
        entry.Write(OutputStreamKind.Stderr, "warn\n"u8);
        entry.Write(OutputStreamKind.Stdout, "two\n"u8);
        (await h.Store.ReadRunOutputAsync(entry.Id, Ct)).ShouldBeEmpty("not before the flush interval: a short run writes its output once, with its result");

        var chunks = await PersistedAsync(h, entry.Id);
        Encoding.UTF8.GetString(chunks.Where(c => !c.IsStderr).SelectMany(c => c.Bytes.ToArray()).ToArray()).ShouldBe("one\ntwo\n");
        Encoding.UTF8.GetString(chunks.Where(c => c.IsStderr).SelectMany(c => c.Bytes.ToArray()).ToArray()).ShouldBe("warn\n");
        h.Lifecycle.Journal.Flushes.ShouldBe(1, "one transaction for the flush, both streams in it");

        h.Backend.Finish(entry.Id, "one\ntwo\n");
        await entry.Completed.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        (await h.Store.ReadRunOutputAsync(entry.Id, Ct)).ShouldBeEmpty("its end keeps the output in its view: one copy");
    }

    [Fact]
    public async Task OutputJournal_OutputPastTheCap_IsNotPersisted()
    {
        await using var h = await LifecycleHarness.StartAsync();
        var agent = await h.AgentAsync();
        var entry = await h.SubmitAsync(agent);
        (await h.Backend.NextStartedAsync()).ShouldBe(entry.Id);
        var cap = (int)entry.Plan.Limits.StdoutBytes;

        entry.Write(OutputStreamKind.Stdout, new byte[cap + 1000]);
        entry.Write(OutputStreamKind.Stdout, new byte[10]);

        var chunks = await PersistedAsync(h, entry.Id);
        chunks.Sum(c => c.Bytes.Length).ShouldBe(cap, "persisted within the run's output cap, as its result keeps it");
        h.Backend.Finish(entry.Id);
        await entry.Completed.WaitAsync(TimeSpan.FromSeconds(10), Ct);
    }

    /// <summary>A run started by the lifecycle (its row says running), its output persisted; then the lifecycle forgets it, as a crash would.</summary>
    private static async Task<string> StartedRunWithPersistedOutputAsync(LifecycleHarness h, Principal agent, string output)
    {
        var entry = await h.SubmitAsync(agent);
        (await h.Backend.NextStartedAsync()).ShouldBe(entry.Id);
        entry.Write(OutputStreamKind.Stdout, Encoding.UTF8.GetBytes(output));
        await PersistedAsync(h, entry.Id);
        return entry.Id;
    }

    private static async Task<IReadOnlyList<Guard.Store.RunOutputChunk>> PersistedAsync(LifecycleHarness h, string runId)
    {
        for (var i = 0; i < 200; i++)
        {
            h.Time.Advance(TimeSpan.FromMilliseconds(50));
            if (await h.Store.ReadRunOutputAsync(runId, Ct) is { Count: > 0 } chunks)
            {
                return chunks;
            }

            await Task.Delay(10, Ct);
        }

        throw new ShouldAssertException($"the output of {runId} was not persisted");
    }

    /// <summary>A run started before a crash and found still running by the restarted service, followed until something kills it.</summary>
    private static async Task<(string RunId, RunGuard Guard, RunRecovery Recovery)> FollowedUntilKilledAsync(LifecycleHarness h, Principal agent)
    {
        var runId = await StartedRunWithPersistedOutputAsync(h, agent, "x\n");
        var (guard, recovery) = Restart(h);
        var docker = new FakeContainerRecovery(new RecoverableRun { RunId = runId, Running = true }) { EndOnShutdown = RunStatus.Cancelled };
        await recovery.StartAsync(docker, await OpenAsync(guard), Ct);
        return (runId, guard, recovery);
    }

    /// <summary>A new guard over the same store, as the restarted service opens it (same node), with an empty ledger.</summary>
    private static (RunGuard Guard, RunRecovery Recovery) Restart(LifecycleHarness h)
    {
        var guard = new RunGuard(h.Store, new GuardOptions { NodeId = "test" }, NullAlertSink.Instance, h.Time, NullLogger<RunGuard>.Instance);
        return (guard, new RunRecovery(h.Store, guard, new ServerOptions(), h.Time, NullLogger.Instance));
    }

    /// <summary>The restarted service's lifecycle over <paramref name="guard"/>, with its recovery (as the composition root wires them).</summary>
    private static RunLifecycle Restarted(LifecycleHarness h, RunGuard guard, RunRecovery recovery) =>
        new(h.Pipeline, guard, h.Store, new ServerOptions(), new Sandbox.Server.Metrics.SandboxMetrics(), h.Time, NullLogger<RunLifecycle>.Instance) { Recovery = recovery };

    private static async Task<IReadOnlyDictionary<string, OpenRun>> OpenAsync(RunGuard guard) =>
        (await guard.OwnOpenRunsAsync(Ct)).ToDictionary(r => r.RunId, StringComparer.Ordinal);

    private static RunResult Ok(string runId, string stdout) => new()
    {
        RunId = runId,
        Status = RunStatus.Ok,
        ExitCode = 0,
        Stdout = stdout,
        StdoutBytes = Encoding.UTF8.GetBytes(stdout),
        Usage = new ResourceUsage { CpuMs = 20, WallMs = 500 },
    };

    /// <summary>The Docker side: finds the runs it was given; each recovery waits for <see cref="End"/> (or, if set, the shutdown).</summary>
    private sealed class FakeContainerRecovery(params RecoverableRun[] runs) : IContainerRecovery
    {
        private readonly TaskCompletionSource<RunResult?> _end = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<RecoveredOutput> Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public RunStatus? EndOnShutdown { get; init; }

        public void End(RunResult? result) => _end.TrySetResult(result);

        public List<string> Discarded { get; } = [];

        public Task<IReadOnlyList<RecoverableRun>> FindAsync(Func<string, bool> isOurs, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<RecoverableRun>>([.. runs.Where(r => isOurs(r.RunId))]);

        public Task DiscardAsync(RecoverableRun run, CancellationToken cancellationToken)
        {
            lock (Discarded)
            {
                Discarded.Add(run.RunId);
            }

            return Task.CompletedTask;
        }

        public async Task<RecoveredRun> RecoverAsync(RecoverableRun run, RecoveredOutput prior, CancellationToken shutdown, CancellationToken cancellationToken)
        {
            Started.TrySetResult(prior);
            if (EndOnShutdown is { } status)
            {
                await Task.Delay(Timeout.Infinite, shutdown).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                return new RecoveredRun { RunId = run.RunId, Result = Ok(run.RunId, "x\n") with { Status = status } };
            }

            return new RecoveredRun { RunId = run.RunId, Result = await _end.Task.WaitAsync(cancellationToken) };
        }
    }
}
