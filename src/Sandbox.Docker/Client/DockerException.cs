using Sandbox.Core.Errors;

namespace Sandbox.Docker.Client;

/// <summary>
/// A Docker Engine API call failed. Carries the HTTP status (null when no response came back), the endpoint
/// (<c>"POST /containers/create"</c>) and the daemon's own message; <see cref="Exception.Message"/> says how to fix it.
/// </summary>
/// <remarks>
/// Subtypes: <see cref="DockerUnavailableException"/> (transient: no answer at all),
/// <see cref="DockerNotFoundException"/> (404) and <see cref="DockerConflictException"/> (409).
/// Retry predicates test <see cref="SandboxException.IsTransient"/> or the type, never the message.
/// </remarks>
public class DockerException : SandboxInfrastructureException
{
    public DockerException(
        string message,
        string endpoint,
        int? statusCode = null,
        string? daemonMessage = null,
        Exception? inner = null,
        bool isTransient = false)
        : base(message, inner, isTransient)
    {
        Endpoint = endpoint;
        StatusCode = statusCode;
        DaemonMessage = daemonMessage;
    }

    /// <summary>The HTTP status the daemon answered with; null when the call never got a response.</summary>
    public int? StatusCode { get; }

    /// <summary>The call that failed, as method and path template, e.g. <c>"POST /containers/create"</c>.</summary>
    public string Endpoint { get; }

    /// <summary>The daemon's <c>message</c> field (or raw body), verbatim; null when there was none.</summary>
    public string? DaemonMessage { get; }

    /// <summary>
    /// The daemon's text, image names, socket paths and daemon.json hints are the operator's business and stay in
    /// the log (the pipeline logs the whole exception); the run's caller learns only that the container backend failed.
    /// </summary>
    public override string ResultMessage => IsTransient
        ? "sandbox_error: the Docker backend is unavailable right now; try again shortly (the details are in the service log)"
        : "sandbox_error: the Docker backend could not run this program; the operator can find the details in the service log";
}
