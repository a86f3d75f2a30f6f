using Sandbox.Core.Errors;
using Sandbox.Docker.Client;

namespace Sandbox.Docker.Execution;

/// <summary>Kills a step's container once, remembering the first reason; later calls are no-ops.</summary>
internal sealed class KillSwitch
{
    private readonly IDockerClient _docker;
    private readonly string _containerId;
    private readonly TaskCompletionSource _fired = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _reason;

    public KillSwitch(IDockerClient docker, string containerId)
    {
        _docker = docker;
        _containerId = containerId;
    }

    public KillReason Reason => (KillReason)Volatile.Read(ref _reason);

    /// <summary>Completes once the kill has been sent.</summary>
    public Task Fired => _fired.Task;

    public void Fire(KillReason reason)
    {
        if (Interlocked.CompareExchange(ref _reason, (int)reason, (int)KillReason.None) != (int)KillReason.None)
        {
            return;
        }

        _ = SendAsync();
    }

    private async Task SendAsync()
    {
        try
        {
            // SIGKILL: a sandboxed program gets no chance to ignore or delay its end.
            await _docker.KillContainerAsync(_containerId, "SIGKILL", CancellationToken.None);
        }
        catch (SandboxException)
        {
            // Already gone, or the daemon is failing; the exit wait reports the latter.
        }
        finally
        {
            _fired.TrySetResult();
        }
    }
}
