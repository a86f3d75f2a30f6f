using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Runs;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Client;
using Sandbox.Docker.Recovery;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;
using Sandbox.Server.Hosting;

namespace Sandbox.Server.Runs;

/// <summary>
/// Start-up recovery of the runs the service died under (issue 11, point 3), before reconciliation closes the rest as
/// <c>interrupted</c>. A run whose container is found gets its real end, recorded as the run would have recorded it (the
/// audit result, its CPU charged, the stored view a GET and a retried key answer with), its output starting with what it
/// persisted as it streamed, and its container removed. A run that completed is never recorded <c>interrupted</c>.
/// </summary>
/// <remarks>
/// <para>
/// Containers that already exited are recorded before the service listens (the daemon's record and the cgroup tell their
/// end at once). Containers still running are <em>followed</em> in the background, each until it exits or reaches its
/// deadline, and recorded exactly once then: the service listens without waiting for them, reconciliation skips them
/// (<see cref="IsFollowing"/>), GET answers <c>running</c> from their row until their end is committed, and their agent's
/// slot and CPU reservation stay held in the <see cref="CapLedger"/> until then.
/// </para>
/// <para>
/// SIGTERM during a follow: <see cref="ShutdownAsync"/> gives followed runs the same grace period as live ones, then kills
/// each and records it <c>cancelled</c> with its output and usage, as the service does with its own runs: every run is
/// recorded at shutdown, none is left for the next start to find.
/// </para>
/// </remarks>
internal sealed partial class RunRecovery : IAsyncDisposable
{
    /// <summary>How long the daemon may take to answer before recovery gives up on it (the runs are then reconciled as interrupted).</summary>
    private static readonly TimeSpan s_pingTimeout = TimeSpan.FromSeconds(3);

    /// <summary>How long the background removal of completed runs' leftover containers may take in all.</summary>
    private static readonly TimeSpan s_discardTimeout = TimeSpan.FromMinutes(2);

    /// <summary>How long killed followed runs get to be confirmed and recorded at shutdown before they are abandoned.</summary>
    private static readonly TimeSpan s_killConfirm = TimeSpan.FromSeconds(30);

    private readonly IGuardStore _store;
    private readonly RunGuard _guard;
    private readonly ServerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, FollowedRun> _followed = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly CancellationTokenSource _abandon = new();
    private DockerClient? _docker;
    private Task _discarding = Task.CompletedTask;
    private int _disposed;

    internal RunRecovery(IGuardStore store, RunGuard guard, ServerOptions options, TimeProvider time, ILogger logger)
    {
        _store = store;
        _guard = guard;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>How many runs are being followed now.</summary>
    public int Following => _followed.Count;

    /// <summary>Whether the run is being followed (reconciliation leaves it alone).</summary>
    public bool IsFollowing(string runId) => _followed.ContainsKey(runId);

    /// <summary>A followed run's owner, for DELETE and revocation (null when the run is not followed).</summary>
    public FollowedRun? FindFollowed(string runId) => _followed.GetValueOrDefault(runId);

    /// <summary>The runs followed now for <paramref name="agentId"/>.</summary>
    public IReadOnlyList<FollowedRun> FollowedOf(string agentId) =>
        [.. _followed.Values.Where(f => string.Equals(f.AgentId, agentId, StringComparison.Ordinal))];

    /// <summary>
    /// Kills followed runs now (a caller's DELETE, a revoked agent or key): each is recorded <c>cancelled</c> with
    /// <paramref name="reason"/> once its container is gone, as a live run would be. Waits up to <paramref name="wait"/>
    /// for the records; returns how many it killed. Revocation kills running code, and a run the service found still running
    /// after a restart is running code too.
    /// </summary>
    public async Task<int> KillAsync(IEnumerable<FollowedRun> runs, string reason, TimeSpan wait)
    {
        var ends = new List<Task>();
        foreach (var run in runs)
        {
            if (!_followed.ContainsKey(run.RunId))
            {
                continue;
            }

            run.Reason ??= reason;
            try
            {
                await run.Kill.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
                // Its end was just recorded: nothing left to kill.
            }

            ends.Add(run.Ended);
        }

        try
        {
            await Task.WhenAll(ends).WaitAsync(wait, _time);
        }
        catch (TimeoutException)
        {
            // Still being killed; the follow records it when the container is gone.
        }

        return ends.Count;
    }

    /// <summary>Completes when the containers of runs recorded complete have been removed (or given up on).</summary>
    internal Task WhenDiscardedAsync() => _discarding;

    /// <summary>Completes when every run followed now has been recorded.</summary>
    public Task WhenFollowedAsync() => Task.WhenAll(_followed.Values.Select(f => f.Ended));

    /// <summary>
    /// Recovers this node's open runs that have a container through the local daemon: the exited ones recorded before this
    /// returns, the running ones followed in the background.
    /// </summary>
    public static async Task<RunRecovery> StartAsync(IGuardStore store, RunGuard guard, ServerOptions options, ILoggerFactory loggers, TimeProvider time, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger("Sandbox.Server.Runs.RunRecovery");
        var recovery = new RunRecovery(store, guard, options, time, logger);
        var open = (await guard.OwnOpenRunsAsync(cancellationToken)).ToDictionary(r => r.RunId, StringComparer.Ordinal);
        var docker = DockerClient.FromEnvironment();
        if (open.Count == 0)
        {
            // Nothing to recover; the containers of runs recorded complete are still removed, in the background, so a
            // start with no open run never waits on the daemon.
            recovery._docker = docker;
            recovery._discarding = recovery.DiscardSettledAsync(new ContainerRecovery(docker, CgroupMeter.Detect(), time, logger), open);
            return recovery;
        }

        try
        {
            using var ping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            ping.CancelAfter(s_pingTimeout);
            await docker.PingAsync(ping.Token);
        }
        catch (Exception ex) when (ex is Core.Errors.SandboxException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            docker.Dispose();
            Log.DockerDown(logger, open.Count);
            return recovery;
        }

        recovery._docker = docker;
        await recovery.StartAsync(new ContainerRecovery(docker, CgroupMeter.Detect(), time, logger), open, cancellationToken);
        return recovery;
    }

    /// <summary>The same over any <see cref="IContainerRecovery"/> (the unit tests' fake).</summary>
    internal async Task StartAsync(IContainerRecovery containers, IReadOnlyDictionary<string, OpenRun> open, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var found = await containers.FindAsync(open.ContainsKey, cancellationToken);
        var recorded = 0;
        foreach (var run in found)
        {
            if (await _store.FindRunAsync(run.RunId, cancellationToken) is not { } stored)
            {
                continue;
            }

            if (!run.Running)
            {
                // Exited while the service was down: judged from the daemon's record at once, before anything listens.
                var ended = await containers.RecoverAsync(run, await PriorOutputAsync(run.RunId, cancellationToken), _shutdown.Token, cancellationToken);
                if (ended.Result is { } result)
                {
                    await RecordAsync(stored, open[run.RunId], result, cancellationToken);
                    recorded++;
                }

                continue;
            }

            // Still running: followed in the background, its slot held until its end is recorded. Registered before this
            // returns, so reconciliation (which runs next) skips it.
            var principal = await PrincipalAsync(stored, cancellationToken);
            var cpuMs = run.Limits?.CpuTimeMs ?? 0;
            if (principal is not null)
            {
                _guard.Ledger.HoldFollowed(principal, cpuMs);
            }

            var followed = new FollowedRun(run.RunId, stored.AgentId, stored.CredentialId, principal, CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token));
            _followed[run.RunId] = followed;
            _ = FollowAsync(containers, run, stored, open[run.RunId], followed, cpuMs);
            Log.Following(_logger, run.RunId);
        }

        Log.Done(_logger, recorded, _followed.Count, open.Count, (long)_time.GetElapsedTime(started).TotalMilliseconds);
        _discarding = DiscardSettledAsync(containers, open);
    }

    /// <summary>
    /// Removes the containers of runs whose end the store already holds: a service killed after recording a run's end and
    /// before removing its container leaves it behind (a claimed warm-pool container would otherwise wait for its pool
    /// deadline, minutes away). Only a completed run's are touched: its container is read by no one once its end is
    /// recorded, on any node; a run the store does not know (another store's, a CLI's) is left to its owner and the reaper.
    /// </summary>
    internal async Task DiscardSettledAsync(IContainerRecovery containers, IReadOnlyDictionary<string, OpenRun> open)
    {
        var cancellationToken = _abandon.Token;
        var discarded = 0;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(s_discardTimeout);
            foreach (var run in await containers.FindAsync(runId => !open.ContainsKey(runId), timeout.Token))
            {
                if (await _store.FindRunAsync(run.RunId, timeout.Token) is { State: "completed" })
                {
                    await containers.DiscardAsync(run, timeout.Token);
                    discarded++;
                }
            }
        }
        catch (DockerUnavailableException ex)
        {
            // No daemon (a host serving WebAssembly only, or Docker down): no container to remove; the reaper sweeps later.
            Log.DiscardSkipped(_logger, ex.Message);
        }
        catch (Exception ex) when (ex is Core.Errors.SandboxException or OperationCanceledException || GuardStores.IsStoreFailure(ex))
        {
            // The daemon or the store failed mid-way: the reaper removes them by their deadline labels.
            Log.DiscardFailed(_logger, ex);
        }

        if (discarded > 0)
        {
            Log.Discarded(_logger, discarded);
        }
    }

    /// <summary>
    /// At SIGTERM: followed runs get <paramref name="grace"/> to end on their own, then are killed and recorded
    /// <c>cancelled</c> (bounded: past <see cref="s_killConfirm"/> they are abandoned, for the next start's recovery).
    /// </summary>
    public async Task ShutdownAsync(TimeSpan grace)
    {
        if (_followed.IsEmpty)
        {
            return;
        }

        try
        {
            await WhenFollowedAsync().WaitAsync(grace, _time);
            return;
        }
        catch (TimeoutException)
        {
            Log.KillingFollowed(_logger, _followed.Count);
        }

        await _shutdown.CancelAsync();
        try
        {
            await WhenFollowedAsync().WaitAsync(s_killConfirm, _time);
        }
        catch (TimeoutException)
        {
            await _abandon.CancelAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await ShutdownAsync(TimeSpan.Zero);
        await _abandon.CancelAsync();
        await _discarding;
        _docker?.Dispose();
        _shutdown.Dispose();
        _abandon.Dispose();
    }

    private async Task FollowAsync(IContainerRecovery containers, RecoverableRun run, StoredRun stored, OpenRun open, FollowedRun handle, long cpuMs)
    {
        await Task.Yield();
        var principal = handle.Principal;
        try
        {
            var prior = await PriorOutputAsync(run.RunId, _abandon.Token);
            // The kill fires at shutdown (after the grace) or for this run alone (DELETE, revocation).
            var followed = await containers.RecoverAsync(run, prior, handle.Kill.Token, _abandon.Token);
            if (followed.Result is { } result)
            {
                if (handle.Reason is { } reason && result.Status == RunStatus.Cancelled)
                {
                    result = result with { Message = "cancelled: " + reason };
                }

                await RecordAsync(stored, open, result, CancellationToken.None);
            }
            else
            {
                // Reconciliation skipped it while it was followed; nothing told its end, so it is closed here instead.
                await _guard.CloseInterruptedAsync(open, "the service restarted while the run was running, and its end could not be told from its container", CancellationToken.None);
            }
        }
        catch (Exception ex)
        {
            // Left open in the store: the next start's recovery (or reconciliation) records it. Never a crash of the service.
            Log.FollowFailed(_logger, run.RunId, ex);
        }
        finally
        {
            // Only after its end is committed: for a moment its agent sees the slot taken and the CPU charged, never neither.
            if (principal is not null)
            {
                _guard.Ledger.GiveFollowed(principal, cpuMs);
            }

            _followed.TryRemove(run.RunId, out _);
            handle.Kill.Dispose();
            handle.End();
        }
    }

    /// <summary>The agent and credential that started the run, for its slot; null when either is gone (nothing to hold).</summary>
    private async Task<Principal?> PrincipalAsync(StoredRun stored, CancellationToken cancellationToken) =>
        await _store.FindAgentAsync(stored.AgentId, cancellationToken) is { } agent
        && await _store.FindCredentialAsync(stored.CredentialId, cancellationToken) is { } credential
            ? new Principal(agent, credential)
            : null;

    /// <summary>What the run persisted as it streamed before the crash (see <see cref="OutputJournal"/>), each stream in order.</summary>
    private async Task<RecoveredOutput> PriorOutputAsync(string runId, CancellationToken cancellationToken)
    {
        var chunks = await _store.ReadRunOutputAsync(runId, cancellationToken);
        if (chunks.Count == 0)
        {
            return RecoveredOutput.None;
        }

        static byte[] Join(IEnumerable<RunOutputChunk> parts)
        {
            using var all = new MemoryStream();
            foreach (var part in parts)
            {
                all.Write(part.Bytes.Span);
            }

            return all.ToArray();
        }

        return new RecoveredOutput(Join(chunks.Where(c => !c.IsStderr)), Join(chunks.Where(c => c.IsStderr)));
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Recovery: Docker does not answer at start-up; the {Count} run(s) the service died under are recorded as interrupted")]
        public static partial void DockerDown(ILogger logger, int count);

        [LoggerMessage(2, LogLevel.Information, "Recovery: {Recovered} run(s) the service died under got their real end from their containers and {Following} still running are followed in the background, of {Open} open, in {ElapsedMs} ms")]
        public static partial void Done(ILogger logger, int recovered, int following, int open, long elapsedMs);

        [LoggerMessage(3, LogLevel.Information, "Recovery: run {RunId} is still running; following it to its end in the background")]
        public static partial void Following(ILogger logger, string runId);

        [LoggerMessage(4, LogLevel.Warning, "Recovery: shutting down with {Count} followed run(s) still running past the grace period; killing and recording them")]
        public static partial void KillingFollowed(ILogger logger, int count);

        [LoggerMessage(5, LogLevel.Error, "Recovery: run {RunId} could not be followed to its end or recorded; it stays open for the next start")]
        public static partial void FollowFailed(ILogger logger, string runId, Exception exception);

        [LoggerMessage(6, LogLevel.Information, "Recovery: removed the containers of {Count} run(s) whose end was recorded before the service died")]
        public static partial void Discarded(ILogger logger, int count);

        [LoggerMessage(7, LogLevel.Warning, "Recovery: the containers of runs recorded complete could not be listed or removed now; the reaper removes them by their deadlines")]
        public static partial void DiscardFailed(ILogger logger, Exception exception);

        [LoggerMessage(8, LogLevel.Debug, "Recovery: no Docker daemon to look for containers of runs recorded complete ({Reason})")]
        public static partial void DiscardSkipped(ILogger logger, string reason);
    }
}

/// <summary>A run start-up recovery follows: whose it is, and the kill that ends it early.</summary>
internal sealed class FollowedRun(string runId, string agentId, string credentialId, Principal? principal, CancellationTokenSource kill)
{
    public string RunId { get; } = runId;

    public string AgentId { get; } = agentId;

    public string CredentialId { get; } = credentialId;

    /// <summary>The agent and credential that started it; null when either is gone.</summary>
    public Principal? Principal { get; } = principal;

    /// <summary>Linked to the shutdown: cancelled by it, or for this run alone.</summary>
    public CancellationTokenSource Kill { get; } = kill;

    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Why it was killed, when not by the shutdown; the recorded result's message says so.</summary>
    public string? Reason { get; set; }

    /// <summary>Completes once its end is recorded (or given up on) and it is no longer followed.</summary>
    public Task Ended => _ended.Task;

    internal void End() => _ended.TrySetResult();
}
