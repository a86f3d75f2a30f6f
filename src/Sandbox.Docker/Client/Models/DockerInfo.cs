namespace Sandbox.Docker.Client;

/// <summary>The parts of GET /info that <c>sandbox doctor</c> reads.</summary>
public sealed record DockerInfo
{
    public string? ServerVersion { get; init; }
    public string? CgroupVersion { get; init; }
    public string? CgroupDriver { get; init; }
    public string? DefaultRuntime { get; init; }
    public IReadOnlyDictionary<string, DockerRuntimeInfo>? Runtimes { get; init; }
    public IReadOnlyList<string>? SecurityOptions { get; init; }
    public int NCPU { get; init; }
    public long MemTotal { get; init; }
}

public sealed record DockerRuntimeInfo
{
    public string? Path { get; init; }
}
