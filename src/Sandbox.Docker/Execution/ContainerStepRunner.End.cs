using Sandbox.Core.Errors;
using Sandbox.Docker.Client;

namespace Sandbox.Docker.Execution;

/// <summary>
/// The end of a step, as whichever of the daemon and the kernel tells it first, and the daemon's bounded time to tell
/// the exit code when it stalls or is lost (issue 11, point 4).
/// </summary>
internal sealed partial class ContainerStepRunner
{
    /// <summary>
    /// Waits for the end of the step, as whichever of the daemon and the kernel says it first. The deadline is held
    /// through the cgroup (see <see cref="KillSwitch"/>), so the processes end on time even when the daemon is stopped or
    /// dead; the exit code is still the daemon's to tell, and it gets a bounded time to tell it.
    /// </summary>
    /// <remarks>
    /// With the wrapper's end line, <paramref name="daemonWait"/> (which starts the daemon's wait on its first call) is not
    /// called until the line, the kernel or a kill has spoken: a kill (the wall clock's at the latest) bounds that time, and
    /// the daemon tells an exit code after the end as well as before it.
    /// </remarks>
    private async Task<ExitReport> AwaitEndAsync(string id, string cgroupParent, Func<Task<ContainerWaitResponse>> daemonWait, KillSwitch kill, ProcessWatch watch, Task<long>? wrapperEnded, long wallTimeMs)
    {
        if (wrapperEnded is not null && await Task.WhenAny(watch.Gone, wrapperEnded, kill.Fired) == wrapperEnded
            && kill.Reason == KillReason.None && await SettleAsync(cgroupParent, watch))
        {
            // The wrapper's end line came with both streams whole and no other process left, and the kernel has seen the
            // cgroup empty since: the run is over, with the status the wrapper passed on. The daemon notices the exit
            // later (tens of milliseconds on two cores), and nothing of the run's result waits for it.
            watch.OomKills = Math.Max(watch.OomKills, _meter.ReadOomKills(cgroupParent));
            return new ExitReport(wrapperEnded.Result, watch.Gone.Result, DaemonLost: false, Vanished: false, OomKilled: false) { FromWrapper = true };
        }

        var wait = daemonWait();
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

    /// <summary>
    /// After the wrapper's end line: its shell exits at once, so the cgroup empties within moments. Looked at every
    /// millisecond for a bounded time; a cgroup still populated past it leaves the end to the kernel's watch and the daemon.
    /// </summary>
    private async Task<bool> SettleAsync(string cgroupParent, ProcessWatch watch)
    {
        var since = _time.GetTimestamp();
        while (true)
        {
            if (_meter.IsPopulated(cgroupParent) == false)
            {
                watch.MarkGone(_time.GetTimestamp());
                return true;
            }

            if (_time.GetElapsedTime(since) >= _options.WrapperSettleGrace)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(1), _time);
        }
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
    private sealed record ExitReport(long? ExitCode, long? EndedAt, bool DaemonLost, bool Vanished, bool OomKilled)
    {
        /// <summary>Told by the wrapper's end line and the kernel, before the daemon: both streams are already whole.</summary>
        public bool FromWrapper { get; init; }
    }
}
