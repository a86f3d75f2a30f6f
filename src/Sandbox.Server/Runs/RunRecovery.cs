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

    /// <summary>How long killed followed runs get to be confirmed and recorded at shutdown before they are abandoned.</summary>
    private static readonly TimeSpan s_killConfirm = TimeSpan.FromSeconds(30);

    private readonly IGuardStore _store;
    private readonly RunGuard _guard;
    private readonly ServerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Task> _following = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly CancellationTokenSource _abandon = new();
    private DockerClient? _docker;
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
    public int Following => _following.Count;

    /// <summary>Whether the run is being followed (reconciliation leaves it alone).</summary>
    public bool IsFollowing(string runId) => _following.ContainsKey(runId);

    /// <summary>Completes when every run followed now has been recorded.</summary>
    public Task WhenFollowedAsync() => Task.WhenAll(_following.Values);

    /// <summary>
    /// Recovers this node's open runs that have a container through the local daemon: the exited ones recorded before this
    /// returns, the running ones followed in the background.
    /// </summary>
    public static async Task<RunRecovery> StartAsync(IGuardStore store, RunGuard guard, ServerOptions options, ILoggerFactory loggers, TimeProvider time, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger("Sandbox.Server.Runs.RunRecovery");
        var recovery = new RunRecovery(store, guard, options, time, logger);
        var open = (await guard.OwnOpenRunsAsync(cancellationToken)).ToDictionary(r => r.RunId, StringComparer.Ordinal);
        if (open.Count == 0)
        {
            return recovery;
        }

        var docker = DockerClient.FromEnvironment();
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

            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _following[run.RunId] = gate.Task;
            _ = FollowAsync(containers, run, stored, open[run.RunId], principal, cpuMs, gate);
            Log.Following(_logger, run.RunId);
        }

        Log.Done(_logger, recorded, _following.Count, open.Count, (long)_time.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>
    /// At SIGTERM: followed runs get <paramref name="grace"/> to end on their own, then are killed and recorded
    /// <c>cancelled</c> (bounded: past <see cref="s_killConfirm"/> they are abandoned, for the next start's recovery).
    /// </summary>
    public async Task ShutdownAsync(TimeSpan grace)
    {
        if (_following.IsEmpty)
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
            Log.KillingFollowed(_logger, _following.Count);
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
        _docker?.Dispose();
        _shutdown.Dispose();
        _abandon.Dispose();
    }

    private async Task FollowAsync(IContainerRecovery containers, RecoverableRun run, StoredRun stored, OpenRun open, Principal? principal, long cpuMs, TaskCompletionSource gate)
    {
        await Task.Yield();
        try
        {
            var prior = await PriorOutputAsync(run.RunId, _abandon.Token);
            var followed = await containers.RecoverAsync(run, prior, _shutdown.Token, _abandon.Token);
            if (followed.Result is { } result)
            {
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

            _following.TryRemove(run.RunId, out _);
            gate.TrySetResult();
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
    }
}
