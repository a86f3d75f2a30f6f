namespace Sandbox.Docker.Client;

/// <summary>Body of POST /containers/{id}/wait.</summary>
public sealed record ContainerWaitResponse
{
    public long StatusCode { get; init; }
    public ContainerWaitError? Error { get; init; }
}

public sealed record ContainerWaitError
{
    public string? Message { get; init; }
}
