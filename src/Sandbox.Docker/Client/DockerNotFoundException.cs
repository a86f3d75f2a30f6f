namespace Sandbox.Docker.Client;

/// <summary>The daemon answered 404: the container or image the call names does not exist.</summary>
public sealed class DockerNotFoundException : DockerException
{
    public DockerNotFoundException(string message, string endpoint, string? daemonMessage)
        : base(message, endpoint, 404, daemonMessage)
    {
    }
}
