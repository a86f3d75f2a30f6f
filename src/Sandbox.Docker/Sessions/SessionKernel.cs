using Sandbox.Docker.Client;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.Sessions;

/// <summary>One kernel container of a session: its attach stream, the reader that routes output to the running cell, and its end.</summary>
internal sealed class SessionKernel
{
    public SessionKernel(string containerId, ContainerStep step, IAttachedStream attached)
    {
        ContainerId = containerId;
        Step = step;
        Attached = attached;
    }

    public string ContainerId { get; }

    public ContainerStep Step { get; }

    public IAttachedStream Attached { get; }

    /// <summary>Stops the reader when the session removes the kernel.</summary>
    public CancellationTokenSource Stop { get; } = new();

    /// <summary>Completes when the kernel's output streams end: its process is gone (exited, killed, OOM-killed).</summary>
    public Task Ended { get; set; } = Task.CompletedTask;

    /// <summary>The cell the output belongs to now; output between cells (a thread left running) is dropped.</summary>
    public SessionCell? Current { get; set; }
}
