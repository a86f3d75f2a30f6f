namespace Sandbox.Docker.Client;

/// <summary>The parts of GET /images/{name}/json that Sandbox reads.</summary>
public sealed record ImageInspectResponse
{
    public string Id { get; init; } = "";
    public IReadOnlyList<string>? RepoTags { get; init; }
    public string? Created { get; init; }
    public long Size { get; init; }
    public ImageConfigSummary? Config { get; init; }
}

public sealed record ImageConfigSummary
{
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
}
