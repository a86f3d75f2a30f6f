using Sandbox.Core.Errors;
using Sandbox.Core.Limits;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Client;
using Sandbox.Docker.Execution;

namespace Sandbox.Docker.Recovery;

/// <summary>Following a container that outlived its service to its end, its limits held through its cgroup.</summary>
public sealed partial class ContainerRecovery
{
    /// <summary>
    /// Follows a container that is still running to its end: reattached for its output from now on, killed through its
    /// cgroup (and the daemon) at its deadline, past its CPU limit or past an output cap.
    /// </summary>
    private async Task<(long? ExitCode, bool OomKilled, KillReason Reason, DateTimeOffset? EndedAt)> FollowAsync(
        string id, string parent, ResourceLimits limits, DateTimeOffset killAt, OutputCollector stdout, OutputCollector stderr, CancellationToken shutdown, CancellationToken cancellationToken)
    {
        var reason = KillReason.None;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        IAttachedStream? attached = null;
        try
        {
            attached = await _docker.AttachAsync(id, cancellationToken);
        }
        catch (SandboxException)
        {
            // Output from here on is lost too; the end and the usage are still the kernel's to tell.
        }

        var overCap = false;
        var read = attached is null ? Task.CompletedTask : ReadAsync(attached, stdout, stderr, () => overCap = true, stop.Token);
        try
        {
            var watchable = _meter.IsPopulated(parent) is not null;
            using var timer = new PeriodicTimer(s_sample, _time);
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                if (watchable ? _meter.IsPopulated(parent) == false : !(await _docker.InspectContainerAsync(id, cancellationToken)).State!.Running)
                {
                    break;
                }

                // A shutdown kills the run it follows and records it (SIGTERM records every run, as the live ones are).
                var why = shutdown.IsCancellationRequested ? KillReason.Cancelled
                    : _time.GetUtcNow() >= killAt ? KillReason.WallTime
                    : (_meter.ReadCpuNanos(parent) ?? 0) > limits.CpuTimeMs * 1_000_000 ? KillReason.CpuTime
                    : overCap ? KillReason.Output
                    : KillReason.None;
                if (why != KillReason.None && reason == KillReason.None)
                {
                    reason = why;
                    Kill(id, parent);
                }
            }

            var endedAt = _time.GetUtcNow();
            long? code = null;
            bool oom = false;
            try
            {
                using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                bound.CancelAfter(s_exitGrace);
                code = (await _docker.WaitContainerAsync(id, bound.Token)).StatusCode;
                oom = (await _docker.InspectContainerAsync(id, bound.Token)).State?.OOMKilled ?? false;
            }
            catch (Exception ex) when (ex is SandboxException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // The processes are gone; the code stays unknown (a kill's reason does not need it).
            }

            // Output can trail the exit by a moment.
            await read.WaitAsync(TimeSpan.FromSeconds(2), _time, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return (code, oom, reason, endedAt);
        }
        finally
        {
            await stop.CancelAsync();
            await read.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (attached is not null)
            {
                await attached.DisposeAsync();
            }
        }
    }

    private void Kill(string id, string parent)
    {
        // Through the cgroup first: it needs no daemon. The daemon's kill is a second line, fire and forget.
        _meter.Kill(parent);
        _ = _docker.KillContainerAsync(id, "SIGKILL", CancellationToken.None).ContinueWith(
            static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    private static async Task ReadAsync(IAttachedStream attached, OutputCollector stdout, OutputCollector stderr, Action overCap, CancellationToken cancellationToken)
    {
        // The run's outputs step writes its tar of /tmp/outputs after a marker; its nonce died with the process that chose
        // it, so the marker's fixed part ends the program's stdout here, and the files are not recovered.
        var outputs = new Artifacts.OutputsSplitter(Artifacts.OutputsCommand.MarkerPrefix);
        var end = new Artifacts.OutputsSplitter(Artifacts.OutputsCommand.EndMarkerPrefix);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var (stream, count) = await attached.ReadAsync(buffer, cancellationToken);
            if (count == 0)
            {
                outputs.Flush(chunk => stdout.Append(chunk));
                end.Flush(chunk => stderr.Append(chunk));
                return;
            }

            if (stream == StdStream.Stderr)
            {
                // The wrapper's end line is the last of stderr, not the program's: it is dropped here as the marker is.
                end.Feed(buffer.AsSpan(0, count), chunk =>
                {
                    if (stderr.Append(chunk))
                    {
                        overCap();
                    }
                }, static _ => { });
                continue;
            }

            outputs.Feed(buffer.AsSpan(0, count), chunk =>
            {
                if (stdout.Append(chunk))
                {
                    overCap();
                }
            }, static _ => { });
        }
    }
}
