namespace Sandbox.Docker.Client;

/// <summary>
/// The daemon could not be reached or did not answer: the socket is missing, the connection was refused or
/// broke, the call timed out, or the circuit breaker is open. Always transient: the same call may succeed
/// once dockerd is back.
/// </summary>
public sealed class DockerUnavailableException : DockerException
{
    public DockerUnavailableException(string message, string endpoint, Exception? inner = null, int? statusCode = null)
        : base(message, endpoint, statusCode, daemonMessage: null, inner, isTransient: true)
    {
    }
}
