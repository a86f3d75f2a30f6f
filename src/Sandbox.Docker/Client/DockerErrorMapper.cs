namespace Sandbox.Docker.Client;

/// <summary>
/// Turns a failed Engine API answer into our exception hierarchy, per endpoint: the same status means
/// different things on different calls (a 404 from create is a missing image, from inspect a missing
/// container), and each message ends with what to do about it.
/// </summary>
internal static class DockerErrorMapper
{
    private const string DaemonLogHint = "see the dockerd log (journalctl -u docker, or /var/log/dockerd.log)";

    /// <summary>Maps an error status of <paramref name="operation"/>.</summary>
    /// <param name="operation">The call that failed.</param>
    /// <param name="statusCode">The HTTP status the daemon answered with (not a 2xx).</param>
    /// <param name="daemonMessage">The daemon's <c>message</c>, or null.</param>
    /// <param name="subject">What the call was about: the image for create and image inspect, else the container id.</param>
    public static DockerException FromStatus(DockerOperation operation, int statusCode, string? daemonMessage, string? subject)
    {
        string endpoint = operation.Endpoint();
        string said = string.IsNullOrWhiteSpace(daemonMessage) ? "" : $" (daemon said: {daemonMessage.Trim()})";
        return statusCode switch
        {
            404 => NotFound(operation, endpoint, said, daemonMessage, subject),
            409 => Conflict(operation, endpoint, said, daemonMessage, subject),
            400 => new DockerException(
                operation == DockerOperation.CreateContainer
                    ? $"{endpoint} rejected the container spec for image '{subject}'{said}; fix the profile or the hardening spec, and if it names a runtime, register that runtime in /etc/docker/daemon.json and restart dockerd"
                    : $"{endpoint} rejected a parameter{said}; this is a bug in how Sandbox calls the Engine API",
                endpoint, statusCode, daemonMessage),
            502 or 503 or 504 => new DockerUnavailableException(
                $"{endpoint} got {statusCode} from the daemon{said}; dockerd is overloaded or restarting, try again shortly",
                endpoint, inner: null, statusCode),
            500 when operation == DockerOperation.StartContainer => new DockerException(
                $"the daemon could not start container {subject}{said}; an OCI runtime error usually means a missing command in the image, an unregistered runtime (check `docker info` Runtimes) or a rejected seccomp/security option",
                endpoint, statusCode, daemonMessage),
            _ => new DockerException(
                $"{endpoint} failed with HTTP {statusCode}{said}; {DaemonLogHint}",
                endpoint, statusCode, daemonMessage),
        };
    }

    /// <summary>The call never got an answer: no socket, refused, reset, or the connection broke mid-response.</summary>
    public static DockerUnavailableException Unreachable(DockerOperation operation, string socketPath, Exception inner)
    {
        string endpoint = operation.Endpoint();
        string why = File.Exists(socketPath) ? inner.Message : $"the socket {socketPath} does not exist";
        return new DockerUnavailableException(
            $"cannot reach the Docker daemon at unix://{socketPath} for {endpoint}: {why}; is dockerd running? start it (or fix DOCKER_HOST to point at its socket)",
            endpoint, inner);
    }

    private static DockerException NotFound(DockerOperation operation, string endpoint, string said, string? daemonMessage, string? subject) =>
        operation switch
        {
            DockerOperation.CreateContainer or DockerOperation.InspectImage => new DockerNotFoundException(
                $"image '{subject}' is missing{said}; run `make images` to build it (nothing can be pulled on this machine)",
                endpoint, daemonMessage),
            DockerOperation.Ping or DockerOperation.Version or DockerOperation.Info => new DockerException(
                $"{endpoint} is not served by the daemon{said}; is DOCKER_HOST pointing at a Docker Engine socket?",
                endpoint, 404, daemonMessage),
            _ => new DockerNotFoundException(
                $"container {subject} does not exist{said}; it was removed (or never created) before {endpoint}",
                endpoint, daemonMessage),
        };

    // A removal's conflict is with the container's exit or another removal, both under way in the daemon: it settles.
    private static DockerConflictException Conflict(DockerOperation operation, string endpoint, string said, string? daemonMessage, string? subject) =>
        new(operation switch
        {
            DockerOperation.CreateContainer =>
                $"{endpoint} for image '{subject}' conflicts with an existing container{said}; the name is taken: remove the old container or let Sandbox pick a fresh name",
            DockerOperation.KillContainer => $"container {subject} is not running{said}",
            DockerOperation.RemoveContainer =>
                $"container {subject} cannot be removed yet{said}; a removal is probably already in progress, try again shortly",
            DockerOperation.AttachContainer =>
                $"cannot attach to container {subject}{said}; attach before the container stops, and never to a paused one",
            _ => $"container {subject} is in the wrong state for {endpoint}{said}",
        }, endpoint, daemonMessage, settlesShortly: operation == DockerOperation.RemoveContainer);
}
