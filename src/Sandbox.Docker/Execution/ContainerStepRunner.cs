using Microsoft.Extensions.Logging;
using Sandbox.Core.Errors;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Client;
using Sandbox.Docker.Pooling;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.Execution;

/// <summary>
/// Runs one hardened container step from create to removal and measures it: the wall-clock deadline is
/// enforced from the host, CPU time is sampled from the run's cgroup and enforced, and the output caps are
/// enforced while reading. The container is always removed, whatever happens.
/// </summary>
internal sealed partial class ContainerStepRunner
{
    /// <summary>How long creating a container may take; it is not cut short by a cancellation (see <see cref="RunAsync"/>).</summary>
    private static readonly TimeSpan s_createTimeout = TimeSpan.FromSeconds(30);

    private readonly IDockerClient _docker;
    private readonly IDockerClient _direct;
    private readonly CgroupMeter _meter;
    private readonly DockerBackendOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BackgroundRemovals _removals;

    public ContainerStepRunner(IDockerClient docker, CgroupMeter meter, DockerBackendOptions options, TimeProvider time, ILogger logger, IDockerClient? direct = null)
    {
        _docker = docker;
        _direct = direct ?? docker;
        _meter = meter;
        _options = options;
        _time = time;
        _logger = logger;
        _removals = new BackgroundRemovals(options.MaxBackgroundRemovals);
    }

    /// <summary>Removals of settled steps' containers, still under way (<see cref="BackgroundRemovals"/>).</summary>
    public BackgroundRemovals Removals => _removals;

    /// <summary>The warm pool run steps claim their container from; null (or no container of the step's spec idle) starts cold.</summary>
    public WarmPool? Pool { get; set; }

    public async Task<StepOutcome> RunAsync(ContainerStep step, ReadOnlyMemory<byte> stdin, CancellationToken cancellationToken)
    {
        if (!_meter.IsAvailable)
        {
            // Fail closed: without the cgroup meter the CPU limit could not be enforced.
            throw new SandboxInfrastructureException("CPU time cannot be measured, so the run was refused: " + _meter.Description);
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (step.StepName is "run" or "compile" && Pool?.TryClaim(step) is { } warm)
        {
            // Its cgroup parent is the pool container's own, made for it alone; the rest of the spec equals the step's.
            var claimed = step with { CgroupParent = warm.CgroupParent };
            var claimProgress = new StepProgress();
            try
            {
                return await RunCreatedAsync(warm.Id, claimed, stdin, claimProgress, warm, cancellationToken);
            }
            finally
            {
                Pool?.ClaimEnded(warm);
                await CleanUpAsync(warm.Id, claimed, claimProgress);
            }
        }

        var spec = ContainerSpecBuilder.Build(step, SeccompProfile.Runner);
        string? id = null;
        string? abandoned = null;
        var progress = new StepProgress();
        try
        {
            try
            {
                // Not the caller's token: a create call abandoned half-way still makes the container on the daemon,
                // and we would never learn its id to remove it. Creating takes a moment; a cancellation is honoured
                // right after, once the id is known.
                using var createTimeout = new CancellationTokenSource(s_createTimeout, _time);
                id = await _docker.CreateContainerAsync(spec.Request, spec.Name, createTimeout.Token);
            }
            catch (OperationCanceledException ex)
            {
                // Our own timeout: the daemon may still make it. The name is this run's alone, so remove by name.
                // It is a daemon fault, not the caller's cancellation, so it must not read as `cancelled`.
                abandoned = spec.Name;
                throw new DockerUnavailableException(
                    $"The Docker daemon did not create the container within {s_createTimeout.TotalSeconds:0} s.", "POST /containers/create", ex);
            }

            cancellationToken.ThrowIfCancellationRequested();
            return await RunCreatedAsync(id, step, stdin, progress, warm: null, cancellationToken);
        }
        finally
        {
            await CleanUpAsync(id ?? abandoned, step, progress);
        }
    }

    private async Task<StepOutcome> RunCreatedAsync(string id, ContainerStep step, ReadOnlyMemory<byte> stdin, StepProgress progress, WarmContainer? warm, CancellationToken cancellationToken)
    {
        var limits = step.Limits;
        var stdout = new OutputCollector(limits.StdoutBytes);
        var stderr = new OutputCollector(limits.StderrBytes);
        var kill = new KillSwitch(_docker, id, () => _meter.IsPopulated(step.CgroupParent), () => _meter.Kill(step.CgroupParent));
        var watch = new ProcessWatch();

        await using var attached = warm?.Attached ?? await _docker.AttachAsync(id, cancellationToken);
        var cpuBaseline = 0L;
        var renamed = Task.CompletedTask;
        if (warm is null)
        {
            await _docker.StartContainerAsync(id, cancellationToken);
        }
        else
        {
            // A claimed container has waited idle: the run's CPU, memory and wall clock start now, not at its start.
            cpuBaseline = _meter.ResetForClaim(step.CgroupParent);
            renamed = RenameClaimedAsync(id, step);
        }

        var started = _time.GetTimestamp();
        // Once started, the step's cgroup holds its processes until they end (runc and runsc alike): the kernel's view of
        // the end, which needs no daemon. Without it (no cgroup found) only the daemon can tell, as before.
        var canWatch = _meter.IsPopulated(step.CgroupParent) is not null;

        using var stop = new CancellationTokenSource();
        using var deadline = kill.ArmWallClock(limits.WallTimeMs, started, _time);
        using var onCancel = cancellationToken.Register(() => kill.Fire(KillReason.Cancelled));

        var outputs = step.Artifacts is { } capture ? new OutputsReader(capture) : null;
        // With the wrapper's end line and the kernel's view of the end both to hand, the daemon is asked to wait only when
        // they do not settle the step (a kill, an entry that died): a run that ends by itself holds no wait open through
        // the run and cancels none (a cancelled call costs its connection; issue 13). Anything else waits from the start,
        // as before.
        Task<ContainerWaitResponse>? waiting = canWatch && outputs is not null ? null : _docker.WaitContainerAsync(id, stop.Token);
        Task<ContainerWaitResponse> Wait() => waiting ??= _docker.WaitContainerAsync(id, stop.Token);
        var write = WriteStdinAsync(attached, stdin, stop.Token);
        var read = ReadOutputAsync(attached, stdout, stderr, step.Output, kill, outputs, stop.Token);
        var monitor = MonitorAsync(step, kill, watch, canWatch, cpuBaseline, stop.Token);

        ExitReport exit;
        try
        {
            exit = canWatch
                ? await AwaitEndAsync(id, step.CgroupParent, Wait, kill, watch, outputs?.Ended, limits.WallTimeMs)
                : new ExitReport((await AwaitExitAsync(Wait(), kill, limits.WallTimeMs)).StatusCode, null, DaemonLost: false, Vanished: false, OomKilled: false);
            progress.DaemonLost = exit.DaemonLost;
            // Output can trail the exit by a moment; give the stream a bounded time to drain. A daemon that is not
            // answering will not pass on more: the result does not wait for it.
            if (!exit.FromWrapper)
            {
                await DrainAsync(read, exit.DaemonLost ? _options.DrainWithoutDaemon : _options.KillGrace, exit.DaemonLost);
            }
        }
        catch (TimeoutException ex)
        {
            progress.DaemonLost = true;
            throw new SandboxInfrastructureException("the Docker daemon did not report the container's exit in time", ex, isTransient: true);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(Quietly(write), Quietly(monitor), Quietly(read), renamed);
        }

        // A cancelled run was killed above; the caller asked for it to stop, so it gets no result.
        if (kill.Reason == KillReason.Cancelled)
        {
            cancellationToken.ThrowIfCancellationRequested();
        }

        var wallMs = (long)(exit.EndedAt is { } ended ? _time.GetElapsedTime(started, ended) : _time.GetElapsedTime(started)).TotalMilliseconds;
        var (oomKilled, vanished) = exit.DaemonLost || exit.Vanished || exit.FromWrapper
            ? (exit.OomKilled, exit.Vanished)
            : await InspectEndAsync(id, exit, kill.Reason);
        var usage = ReadUsage(step, cpuBaseline);
        // Settled: nothing killed it, the daemon saw it end, and its cgroup holds no process (the kernel's word).
        progress.Settled = kill.Reason == KillReason.None && !exit.DaemonLost && !vanished && _meter.IsPopulated(step.CgroupParent) == false;
        return OutputsReader.Complete(outputs, StepOutcome.Collected(exit.ExitCode, oomKilled || watch.OomKills > 0, kill.Reason, stdout, stderr, wallMs, usage.CpuMs, usage.PeakMemoryBytes) with
        {
            DaemonLost = exit.DaemonLost,
            Vanished = vanished,
        });
    }

    private static async Task WriteStdinAsync(IAttachedStream attached, ReadOnlyMemory<byte> stdin, CancellationToken cancellationToken)
    {
        // Written in slices so a program that never reads its stdin cannot make us buffer it all at once.
        const int Slice = 64 * 1024;
        for (var offset = 0; offset < stdin.Length; offset += Slice)
        {
            await attached.WriteStdinAsync(stdin.Slice(offset, Math.Min(Slice, stdin.Length - offset)), cancellationToken);
        }

        await attached.CloseStdinAsync(cancellationToken);
    }

    private async Task ReadOutputAsync(IAttachedStream attached, OutputCollector stdout, OutputCollector stderr, Core.Execution.IRunOutputSink? output, KillSwitch kill, OutputsReader? outputs, CancellationToken cancellationToken)
    {
        var buffer = new byte[_options.ReadBufferBytes];
        // Made once, not per chunk: the program's bytes of either stream, past the wrapper's markers.
        Artifacts.ByteSink toStdout = chunk => Pass(false, chunk);
        Artifacts.ByteSink toStderr = chunk => Pass(true, chunk);
        while (true)
        {
            var (stream, count) = await attached.ReadAsync(buffer, cancellationToken);
            if (count == 0)
            {
                outputs?.Flush(chunk => Deliver(false, chunk, stdout, stderr, output));
                outputs?.FlushStderr(chunk => Deliver(true, chunk, stdout, stderr, output));
                return;
            }

            if (outputs is null)
            {
                Pass(stream == StdStream.Stderr, buffer.AsSpan(0, count));
            }
            else if (stream == StdStream.Stderr)
            {
                // The program's stderr, then the wrapper's end line, which is not the program's output.
                outputs.FeedStderr(buffer.AsSpan(0, count), toStderr);
            }
            else
            {
                // The program's stdout, then (after the marker) the tar of /tmp/outputs, which is not the program's output.
                outputs.Feed(buffer.AsSpan(0, count), toStdout);
            }
        }

        void Pass(bool isStderr, ReadOnlySpan<byte> chunk)
        {
            if (Deliver(isStderr, chunk, stdout, stderr, output))
            {
                kill.Fire(KillReason.Output);
            }
        }
    }

    /// <summary>Keeps a chunk and passes on what fits under the cap; returns true when it crossed the cap.</summary>
    private static bool Deliver(bool isStderr, ReadOnlySpan<byte> chunk, OutputCollector stdout, OutputCollector stderr, Core.Execution.IRunOutputSink? output)
    {
        var collector = isStderr ? stderr : stdout;
        var before = collector.KeptBytes;
        var crossed = collector.Append(chunk);
        if (output is not null && collector.KeptBytes > before)
        {
            output.Write(isStderr ? Core.Execution.OutputStreamKind.Stderr : Core.Execution.OutputStreamKind.Stdout, chunk[..(collector.KeptBytes - before)]);
        }

        return crossed;
    }

    /// <summary>
    /// Samples the step's cgroup: CPU time against its limit, OOM kills (the container's own cgroup goes with the
    /// container, so its count is read while it is there), and whether any process is left, the end as the kernel sees it.
    /// </summary>
    private async Task MonitorAsync(ContainerStep step, KillSwitch kill, ProcessWatch watch, bool canWatch, long cpuBaseline, CancellationToken cancellationToken)
    {
        var cpuLimitNanos = step.Limits.CpuTimeMs * 1_000_000;
        using var timer = new PeriodicTimer(_options.SampleInterval, _time);
        for (var tick = 1; await timer.WaitForNextTickAsync(cancellationToken); tick++)
        {
            if (kill.Reason == KillReason.None && _meter.ReadCpuNanos(step.CgroupParent) is { } used && used - cpuBaseline > cpuLimitNanos)
            {
                kill.Fire(KillReason.CpuTime);
            }

            if (!canWatch || tick % WatchEveryTicks != 0)
            {
                continue;
            }

            watch.OomKills = Math.Max(watch.OomKills, _meter.ReadOomKills(step.CgroupParent));
            if (_meter.IsPopulated(step.CgroupParent) == false)
            {
                watch.MarkGone(_time.GetTimestamp());
                return;
            }
        }
    }

    private (long CpuMs, long PeakMemoryBytes) ReadUsage(ContainerStep step, long cpuBaseline) =>
        (Math.Max(0, (_meter.ReadCpuNanos(step.CgroupParent) ?? 0) - cpuBaseline) / 1_000_000, _meter.ReadPeakMemoryBytes(step.CgroupParent) ?? 0);

    /// <summary>
    /// Names a claimed pool container after its run (<see cref="ClaimName"/>), so start-up recovery finds it; it runs beside
    /// the program, and a failure only costs recovery that run (the reaper still removes the container).
    /// </summary>
    private async Task RenameClaimedAsync(string id, ContainerStep step)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10), _time);
            var name = ClaimName.Format(step.RunId, _time.GetUtcNow().ToUnixTimeMilliseconds(), step.StepName, step.CompileCpuMs);
            await _docker.RenameContainerAsync(id, name, timeout.Token);
        }
        catch (Exception ex) when (ex is SandboxException or OperationCanceledException or IOException)
        {
            Log.RenameFailed(_logger, step.RunId, ex);
        }
    }

    /// <summary>How many CPU samples apart the end is looked for (3 × 20 ms): a deadline held to well within a second.</summary>
    private const int WatchEveryTicks = 3;

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SandboxException or ObjectDisposedException)
        {
            // These tasks end because the container is gone or the step is over; their errors carry no news.
        }
    }

    /// <summary>How the step ended, for the clean-up that follows it.</summary>
    private sealed class StepProgress
    {
        /// <summary>The daemon stopped answering during the step.</summary>
        public bool DaemonLost { get; set; }

        /// <summary>The step ended by itself with its cgroup empty, so its container may be removed after the result is returned.</summary>
        public bool Settled { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(12, LogLevel.Warning, "Container {ContainerId}: the Docker daemon stopped answering mid-run; the deadline is held and the end observed through the run's cgroup")]
        public static partial void DaemonLost(ILogger logger, string containerId);

        [LoggerMessage(10, LogLevel.Warning, "Run {RunId}: the container could not be removed now; the reaper will remove it")]
        public static partial void RemoveFailed(ILogger logger, string runId, Exception exception);

        [LoggerMessage(13, LogLevel.Warning, "Run {RunId}: its warm container could not be named after it; start-up recovery would not find it")]
        public static partial void RenameFailed(ILogger logger, string runId, Exception exception);

        [LoggerMessage(11, LogLevel.Debug, "Run {RunId}: cgroup {Cgroup} not removed yet; the reaper will remove it")]
        public static partial void CgroupLeft(ILogger logger, string runId, string cgroup);
    }
}
