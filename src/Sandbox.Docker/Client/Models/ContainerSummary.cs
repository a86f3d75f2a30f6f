namespace Sandbox.Docker.Client;

/// <summary>One row of GET /containers/json.</summary>
public sealed record ContainerSummary
{
    public string Id { get; init; } = "";
    public IReadOnlyList<string>? Names { get; init; }
    public string? Image { get; init; }
    public string? State { get; init; }
    public long Created { get; init; }
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
}
