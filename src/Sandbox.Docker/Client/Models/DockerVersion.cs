namespace Sandbox.Docker.Client;

/// <summary>Body of GET /version.</summary>
public sealed record DockerVersion
{
    public string Version { get; init; } = "";
    public string ApiVersion { get; init; } = "";
    public string MinAPIVersion { get; init; } = "";
    public string? Os { get; init; }
    public string? Arch { get; init; }
    public string? KernelVersion { get; init; }
}
