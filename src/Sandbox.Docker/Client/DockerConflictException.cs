namespace Sandbox.Docker.Client;

/// <summary>The daemon answered 409: the container is in the wrong state for the call, or a name is taken.</summary>
public sealed class DockerConflictException : DockerException
{
    public DockerConflictException(string message, string endpoint, string? daemonMessage)
        : base(message, endpoint, 409, daemonMessage)
    {
    }
}
