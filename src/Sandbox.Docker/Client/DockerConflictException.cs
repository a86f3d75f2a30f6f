namespace Sandbox.Docker.Client;

/// <summary>The daemon answered 409: the container is in the wrong state for the call, or a name is taken.</summary>
public sealed class DockerConflictException : DockerException
{
    public DockerConflictException(string message, string endpoint, string? daemonMessage, bool settlesShortly = false)
        : base(message, endpoint, 409, daemonMessage)
    {
        SettlesShortly = settlesShortly;
    }

    /// <summary>
    /// The conflict is with a change the daemon is making to the container right now, so the same call succeeds once it
    /// has: a removal while the container's exit is being handled ("Could not kill running container …, cannot remove -
    /// Container … is not running") or while another removal is under way. Retried (<see cref="Resilience.DockerResiliencePipelines.IsRetried"/>),
    /// never counted against the circuit: the daemon answered.
    /// </summary>
    public bool SettlesShortly { get; }
}
