namespace Sandbox.Docker.Client;

/// <summary>Body of POST /containers/{id}/wait.</summary>
internal sealed record ContainerWaitResponse
{
    public long StatusCode { get; init; }
    public ContainerWaitError? Error { get; init; }
}

internal sealed record ContainerWaitError
{
    public string? Message { get; init; }
}
