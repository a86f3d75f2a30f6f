using Microsoft.Extensions.Logging;
using Sandbox.Core.Errors;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Client;
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

    public ContainerStepRunner(IDockerClient docker, CgroupMeter meter, DockerBackendOptions options, TimeProvider time, ILogger logger, IDockerClient? direct = null)
    {
        _docker = docker;
        _direct = direct ?? docker;
        _meter = meter;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public async Task<StepOutcome> RunAsync(ContainerStep step, ReadOnlyMemory<byte> stdin, CancellationToken cancellationToken)
    {
        if (!_meter.IsAvailable)
        {
            // Fail closed: without the cgroup meter the CPU limit could not be enforced.
            throw new SandboxInfrastructureException("CPU time cannot be measured, so the run was refused: " + _meter.Description);
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
            return await RunCreatedAsync(id, step, stdin, progress, cancellationToken);
        }
        finally
        {
            await CleanUpAsync(id ?? abandoned, step, progress.DaemonLost);
        }
    }

    private async Task<StepOutcome> RunCreatedAsync(string id, ContainerStep step, ReadOnlyMemory<byte> stdin, StepProgress progress, CancellationToken cancellationToken)
    {
        var limits = step.Limits;
        var stdout = new OutputCollector(limits.StdoutBytes);
        var stderr = new OutputCollector(limits.StderrBytes);
        var kill = new KillSwitch(_docker, id, () => _meter.IsPopulated(step.CgroupParent), () => _meter.Kill(step.CgroupParent));
        var watch = new ProcessWatch();

        await using var attached = await _docker.AttachAsync(id, cancellationToken);
        await _docker.StartContainerAsync(id, cancellationToken);
        var started = _time.GetTimestamp();
        // Once started, the step's cgroup holds its processes until they end (runc and runsc alike): the kernel's view of
        // the end, which needs no daemon. Without it (no cgroup found) only the daemon can tell, as before.
        var canWatch = _meter.IsPopulated(step.CgroupParent) is not null;

        using var stop = new CancellationTokenSource();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(limits.WallTimeMs), _time);
        using var onDeadline = deadline.Token.Register(() => kill.Fire(KillReason.WallTime));
        using var onCancel = cancellationToken.Register(() => kill.Fire(KillReason.Cancelled));

        var wait = _docker.WaitContainerAsync(id, stop.Token);
        var write = WriteStdinAsync(attached, stdin, stop.Token);
        var read = ReadOutputAsync(attached, stdout, stderr, step.Output, kill, stop.Token);
        var monitor = MonitorAsync(step, kill, watch, canWatch, stop.Token);

        ExitReport exit;
        try
        {
            exit = canWatch
                ? await AwaitEndAsync(id, wait, kill, watch, limits.WallTimeMs)
                : new ExitReport((await AwaitExitAsync(wait, kill, limits.WallTimeMs)).StatusCode, null, DaemonLost: false, Vanished: false, OomKilled: false);
            progress.DaemonLost = exit.DaemonLost;
            // Output can trail the exit by a moment; give the stream a bounded time to drain. A daemon that is not
            // answering will not pass on more: the result does not wait for it.
            await DrainAsync(read, exit.DaemonLost ? _options.DrainWithoutDaemon : _options.KillGrace, exit.DaemonLost);
        }
        catch (TimeoutException ex)
        {
            progress.DaemonLost = true;
            throw new SandboxInfrastructureException("the Docker daemon did not report the container's exit in time", ex, isTransient: true);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(Quietly(write), Quietly(monitor), Quietly(read));
        }

        // A cancelled run was killed above; the caller asked for it to stop, so it gets no result.
        if (kill.Reason == KillReason.Cancelled)
        {
            cancellationToken.ThrowIfCancellationRequested();
        }

        var wallMs = (long)(exit.EndedAt is { } ended ? _time.GetElapsedTime(started, ended) : _time.GetElapsedTime(started)).TotalMilliseconds;
        var (oomKilled, vanished) = exit.DaemonLost || exit.Vanished
            ? (exit.OomKilled, exit.Vanished)
            : await InspectEndAsync(id, exit, kill.Reason);
        var usage = ReadUsage(step);
        return new StepOutcome
        {
            ExitCode = exit.ExitCode,
            OomKilled = oomKilled || watch.OomKills > 0,
            KillReason = kill.Reason,
            Stdout = stdout.ToArray(),
            Stderr = stderr.ToArray(),
            StdoutTotal = stdout.TotalBytes,
            StderrTotal = stderr.TotalBytes,
            StdoutTruncated = stdout.Truncated,
            StderrTruncated = stderr.Truncated,
            WallMs = wallMs,
            CpuMs = usage.CpuMs,
            PeakMemoryBytes = usage.PeakMemoryBytes,
            DaemonLost = exit.DaemonLost,
            Vanished = vanished,
        };
    }

    /// <summary>
    /// Waits for the end of the step, as whichever of the daemon and the kernel says it first. The deadline is held
    /// through the cgroup (see <see cref="KillSwitch"/>), so the processes end on time even when the daemon is stopped or
    /// dead; the exit code is still the daemon's to tell, and it gets a bounded time to tell it.
    /// </summary>
    private async Task<ExitReport> AwaitEndAsync(string id, Task<ContainerWaitResponse> wait, KillSwitch kill, ProcessWatch watch, long wallTimeMs)
    {
        var daemonLost = false;
        if (await Task.WhenAny(wait, watch.Gone) == wait)
        {
            if (wait.IsCompletedSuccessfully)
            {
                return new ExitReport(wait.Result.StatusCode, null, DaemonLost: false, Vanished: false, OomKilled: false);
            }

            if (wait.Exception?.InnerException is DockerNotFoundException)
            {
                return new ExitReport(null, null, DaemonLost: false, Vanished: true, OomKilled: false);
            }

            // The daemon's connection broke (dockerd killed, its shims alive): the program may well run on. The deadline
            // still holds through the cgroup, and the cgroup emptying is its end.
            daemonLost = true;
            Log.DaemonLost(_logger, id[..12]);
            var bound = TimeSpan.FromMilliseconds(wallTimeMs) + _options.KillGrace;
            await watch.Gone.WaitAsync(bound, _time);
        }

        var endedAt = watch.Gone.Result;
        if (kill.Reason != KillReason.None)
        {
            // Killed by us: the reason is the outcome and the code adds nothing; take it only if the daemon has it at hand.
            var code = daemonLost ? null : await TryWaitAsync(wait, _options.DaemonConfirmGrace);
            return new ExitReport(code, endedAt, DaemonLost: daemonLost || code is null, Vanished: false, OomKilled: false);
        }

        // It ended on its own before any limit: only the daemon knows how. A stalled daemon (SIGSTOP) answers the wait
        // when it resumes; a restarted one knows the code from the shim.
        if (!daemonLost)
        {
            try
            {
                var answer = await wait.WaitAsync(_options.DaemonReturnGrace, _time);
                return new ExitReport(answer.StatusCode, endedAt, DaemonLost: false, Vanished: false, OomKilled: false);
            }
            catch (TimeoutException)
            {
                return new ExitReport(null, endedAt, DaemonLost: true, Vanished: false, OomKilled: false);
            }
            catch (DockerNotFoundException)
            {
                return new ExitReport(null, endedAt, DaemonLost: false, Vanished: true, OomKilled: false);
            }
            catch (Exception ex) when (ex is SandboxException or IOException)
            {
                Log.DaemonLost(_logger, id[..12]);
            }
        }

        return await PollExitAsync(id, endedAt);
    }

    /// <summary>After the daemon was lost: asks it for the container's state until it answers, bounded by <see cref="DockerBackendOptions.DaemonReturnGrace"/>.</summary>
    private async Task<ExitReport> PollExitAsync(string id, long endedAt)
    {
        var since = _time.GetTimestamp();
        while (_time.GetElapsedTime(since) < _options.DaemonReturnGrace)
        {
            try
            {
                using var call = new CancellationTokenSource(TimeSpan.FromSeconds(2), _time);
                var state = (await _direct.InspectContainerAsync(id, call.Token)).State;
                if (state is { Running: false })
                {
                    return new ExitReport(state.ExitCode, endedAt, DaemonLost: true, Vanished: false, OomKilled: state.OOMKilled);
                }
            }
            catch (DockerNotFoundException)
            {
                return new ExitReport(null, endedAt, DaemonLost: true, Vanished: true, OomKilled: false);
            }
            catch (Exception ex) when (ex is SandboxException or OperationCanceledException or IOException)
            {
                // Still down; ask again.
            }

            await Task.Delay(_options.DaemonPollInterval, _time);
        }

        return new ExitReport(null, endedAt, DaemonLost: true, Vanished: false, OomKilled: false);
    }

    private async Task<long?> TryWaitAsync(Task<ContainerWaitResponse> wait, TimeSpan within)
    {
        try
        {
            return (await wait.WaitAsync(within, _time)).StatusCode;
        }
        catch (Exception ex) when (ex is TimeoutException or SandboxException or IOException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>
    /// The daemon's flags on an ended container, bounded: the OOM flag, and whether someone removed it under us
    /// (<c>docker rm -f</c> marks it "removing" before it kills it, then it is gone).
    /// </summary>
    private async Task<(bool OomKilled, bool Vanished)> InspectEndAsync(string id, ExitReport exit, KillReason reason)
    {
        try
        {
            using var call = new CancellationTokenSource(TimeSpan.FromSeconds(10), _time);
            var state = (await _docker.InspectContainerAsync(id, call.Token)).State;
            var removing = state?.Status == "removing" || state?.Dead == true;
            return (state?.OOMKilled ?? false, removing && reason == KillReason.None && exit.ExitCode != 0);
        }
        catch (DockerNotFoundException)
        {
            return (false, reason == KillReason.None && exit.ExitCode != 0);
        }
        catch (Exception ex) when (ex is SandboxException or OperationCanceledException)
        {
            // The flags stay unknown; the cgroup's OOM count and the peak memory still tell an OOM kill.
            return (false, false);
        }
    }

    private async Task DrainAsync(Task read, TimeSpan within, bool daemonLost)
    {
        try
        {
            await read.WaitAsync(within, _time, CancellationToken.None);
        }
        catch (TimeoutException) when (daemonLost)
        {
            // A lost daemon passes on nothing more; what arrived is kept.
        }
    }

    /// <summary>Waits for the exit; once a kill has fired the daemon gets a bounded grace to report it.</summary>
    private async Task<ContainerWaitResponse> AwaitExitAsync(Task<ContainerWaitResponse> wait, KillSwitch kill, long wallTimeMs)
    {
        // The wall-clock kill fires at wallTimeMs; past that plus the grace, the daemon is not doing its job.
        var hardStop = TimeSpan.FromMilliseconds(wallTimeMs) + _options.KillGrace;
        var outcome = await Task.WhenAny(wait, kill.Fired.WaitAsync(hardStop, _time)).ConfigureAwait(false);
        if (outcome == wait)
        {
            return await wait;
        }

        return await wait.WaitAsync(_options.KillGrace, _time);
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

    private async Task ReadOutputAsync(IAttachedStream attached, OutputCollector stdout, OutputCollector stderr, Core.Execution.IRunOutputSink? output, KillSwitch kill, CancellationToken cancellationToken)
    {
        var buffer = new byte[_options.ReadBufferBytes];
        while (true)
        {
            var (stream, count) = await attached.ReadAsync(buffer, cancellationToken);
            if (count == 0)
            {
                return;
            }

            if (Deliver(stream == StdStream.Stderr, buffer.AsSpan(0, count), stdout, stderr, output))
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
    private async Task MonitorAsync(ContainerStep step, KillSwitch kill, ProcessWatch watch, bool canWatch, CancellationToken cancellationToken)
    {
        var cpuLimitNanos = step.Limits.CpuTimeMs * 1_000_000;
        using var timer = new PeriodicTimer(_options.SampleInterval, _time);
        for (var tick = 1; await timer.WaitForNextTickAsync(cancellationToken); tick++)
        {
            if (kill.Reason == KillReason.None && _meter.ReadCpuNanos(step.CgroupParent) is { } used && used > cpuLimitNanos)
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

    private (long CpuMs, long PeakMemoryBytes) ReadUsage(ContainerStep step) =>
        ((_meter.ReadCpuNanos(step.CgroupParent) ?? 0) / 1_000_000, _meter.ReadPeakMemoryBytes(step.CgroupParent) ?? 0);

    private async Task CleanUpAsync(string? id, ContainerStep step, bool daemonLost)
    {
        if (id is not null && (daemonLost || !await TryRemoveAsync(_docker, id, step, TimeSpan.FromSeconds(30))))
        {
            // The daemon is down or stalled: the result must not wait for it. The container is removed once it answers
            // (the processes are already gone; only the daemon's record of them is left).
            _ = RemoveLaterAsync(id, step);
            return;
        }

        RemoveCgroup(step);
    }

    private async Task<bool> TryRemoveAsync(IDockerClient docker, string id, ContainerStep step, TimeSpan within, bool quiet = false)
    {
        try
        {
            // Never the caller's token: a cancelled run must still be removed.
            using var timeout = new CancellationTokenSource(within, _time);
            await docker.RemoveContainerAsync(id, timeout.Token);
            return true;
        }
        catch (DockerNotFoundException)
        {
            return true;
        }
        catch (Exception ex) when (ex is SandboxException or OperationCanceledException)
        {
            if (!quiet)
            {
                Log.RemoveFailed(_logger, step.RunId, ex);
            }

            return false;
        }
    }

    private async Task RemoveLaterAsync(string id, ContainerStep step)
    {
        var since = _time.GetTimestamp();
        while (_time.GetElapsedTime(since) < _options.RemoveLaterFor)
        {
            await Task.Delay(_options.DaemonPollInterval, _time);
            if (await TryRemoveAsync(_direct, id, step, TimeSpan.FromSeconds(5), quiet: true))
            {
                RemoveCgroup(step);
                return;
            }
        }

        // Past this the reaper (and start-up recovery) remove it by its labels.
    }

    private void RemoveCgroup(ContainerStep step)
    {
        if (!_meter.TryRemove(step.CgroupParent))
        {
            Log.CgroupLeft(_logger, step.RunId, step.CgroupParent);
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

    /// <summary>Whether the daemon was lost during the step, for the clean-up that follows it.</summary>
    private sealed class StepProgress
    {
        public bool DaemonLost { get; set; }
    }

    /// <summary>The end of the processes as the kernel reported it (the step's cgroup emptied), and the OOM kills it counted.</summary>
    private sealed class ProcessWatch
    {
        private readonly TaskCompletionSource<long> _gone = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes with the timestamp at which the cgroup was found empty.</summary>
        public Task<long> Gone => _gone.Task;

        public long OomKills { get; set; }

        public void MarkGone(long timestamp) => _gone.TrySetResult(timestamp);
    }

    /// <summary>How a step ended: the exit code (null when nobody could say), when the kernel saw the end, and what the daemon did.</summary>
    private sealed record ExitReport(long? ExitCode, long? EndedAt, bool DaemonLost, bool Vanished, bool OomKilled);

    private static partial class Log
    {
        [LoggerMessage(12, LogLevel.Warning, "Container {ContainerId}: the Docker daemon stopped answering mid-run; the deadline is held and the end observed through the run's cgroup")]
        public static partial void DaemonLost(ILogger logger, string containerId);

        [LoggerMessage(10, LogLevel.Warning, "Run {RunId}: the container could not be removed now; the reaper will remove it")]
        public static partial void RemoveFailed(ILogger logger, string runId, Exception exception);

        [LoggerMessage(11, LogLevel.Debug, "Run {RunId}: cgroup {Cgroup} not removed yet; the reaper will remove it")]
        public static partial void CgroupLeft(ILogger logger, string runId, string cgroup);
    }
}
