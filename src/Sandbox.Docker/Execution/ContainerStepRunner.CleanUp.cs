using Sandbox.Core.Errors;
using Sandbox.Docker.Client;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.Execution;

/// <summary>The container's removal after its step, which never holds a result for a daemon that does not answer.</summary>
internal sealed partial class ContainerStepRunner
{
    private async Task CleanUpAsync(string? id, ContainerStep step, StepProgress progress)
    {
        if (id is not null && progress.Settled)
        {
            // The step ended by itself and the kernel saw its cgroup empty: the result need not wait for the daemon to
            // forget the container. A run that was killed (DELETE, revocation, a limit) is still removed before it answers.
            await _removals.Start(() => RemoveSettledAsync(id, step));
            return;
        }

        if (id is not null && (progress.DaemonLost || !await TryRemoveAsync(_docker, id, step, TimeSpan.FromSeconds(30))))
        {
            // The daemon is down or stalled: the result must not wait for it. The container is removed once it answers
            // (the processes are already gone; only the daemon's record of them is left).
            _ = RemoveLaterAsync(id, step);
            return;
        }

        RemoveCgroup(step);
    }

    private async Task RemoveSettledAsync(string id, ContainerStep step)
    {
        if (await TryRemoveAsync(_docker, id, step, TimeSpan.FromSeconds(30)))
        {
            RemoveCgroup(step);
        }
        else
        {
            // As for a daemon lost mid-run: retried apart from this removal, which shutdown waits for, and then the reaper.
            _ = RemoveLaterAsync(id, step);
        }
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
}
