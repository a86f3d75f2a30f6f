namespace Sandbox.Docker.Client;

/// <summary>
/// Each Engine API call the client makes. Errors are mapped per operation (a 404 from create means a missing
/// image, from inspect a missing container) and the resilience pipelines pick retry or not per operation.
/// </summary>
internal enum DockerOperation
{
    Ping,
    Version,
    Info,
    CreateContainer,
    StartContainer,
    AttachContainer,
    WaitContainer,
    KillContainer,
    RemoveContainer,
    RenameContainer,
    InspectContainer,
    ListContainers,
    InspectImage,
}

internal static class DockerOperationExtensions
{
    /// <summary>The operation as method and path template, for exceptions and logs: <c>"POST /containers/create"</c>.</summary>
    public static string Endpoint(this DockerOperation operation) => operation switch
    {
        DockerOperation.Ping => "GET /_ping",
        DockerOperation.Version => "GET /version",
        DockerOperation.Info => "GET /info",
        DockerOperation.CreateContainer => "POST /containers/create",
        DockerOperation.StartContainer => "POST /containers/{id}/start",
        DockerOperation.AttachContainer => "POST /containers/{id}/attach",
        DockerOperation.WaitContainer => "POST /containers/{id}/wait",
        DockerOperation.KillContainer => "POST /containers/{id}/kill",
        DockerOperation.RemoveContainer => "DELETE /containers/{id}",
        DockerOperation.RenameContainer => "POST /containers/{id}/rename",
        DockerOperation.InspectContainer => "GET /containers/{id}/json",
        DockerOperation.ListContainers => "GET /containers/json",
        DockerOperation.InspectImage => "GET /images/{name}/json",
        _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, "unknown Docker operation"),
    };

    /// <summary>
    /// True when repeating the call after a lost answer cannot do harm. Create could make a second container,
    /// start and attach are tied to one run, and wait lasts as long as the container: those are never retried.
    /// </summary>
    public static bool IsSafeToRetry(this DockerOperation operation) => operation switch
    {
        DockerOperation.Ping or DockerOperation.Version or DockerOperation.Info
            or DockerOperation.InspectContainer or DockerOperation.ListContainers or DockerOperation.InspectImage
            or DockerOperation.KillContainer or DockerOperation.RemoveContainer => true,
        _ => false,
    };
}
