namespace Sandbox.Docker.Client;

/// <summary>The parts of GET /containers/{id}/json that Sandbox reads.</summary>
public sealed record ContainerInspectResponse
{
    public string Id { get; init; } = "";
    public string? Name { get; init; }
    public ContainerState? State { get; init; }
    public ContainerConfigSummary? Config { get; init; }
    public HostConfig? HostConfig { get; init; }
}

public sealed record ContainerState
{
    public string? Status { get; init; }
    public bool Running { get; init; }
    public bool OOMKilled { get; init; }
    public bool Dead { get; init; }
    public int Pid { get; init; }
    public int ExitCode { get; init; }
    public string? Error { get; init; }
    public string? StartedAt { get; init; }
    public string? FinishedAt { get; init; }
}

public sealed record ContainerConfigSummary
{
    public string? User { get; init; }
    public string? Image { get; init; }
    public IReadOnlyList<string>? Env { get; init; }
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
}
