namespace Sandbox.Docker.Client;

/// <summary>The parts of GET /images/{name}/json that Sandbox reads.</summary>
internal sealed record ImageInspectResponse
{
    public string Id { get; init; } = "";
    public IReadOnlyList<string>? RepoTags { get; init; }
    public string? Created { get; init; }
    public long Size { get; init; }
    public ImageConfigSummary? Config { get; init; }
}

internal sealed record ImageConfigSummary
{
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
}
