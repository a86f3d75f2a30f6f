using System.Text.Json.Serialization;

namespace Sandbox.Docker.Client;

/// <summary>Body of POST /containers/create (Engine API 1.41). Only the fields Sandbox sets; nulls are omitted.</summary>
public sealed record ContainerCreateRequest
{
    public required string Image { get; init; }
    public IReadOnlyList<string>? Cmd { get; init; }
    public IReadOnlyList<string>? Entrypoint { get; init; }
    public IReadOnlyList<string>? Env { get; init; }
    public string? User { get; init; }
    public string? WorkingDir { get; init; }
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
    public bool AttachStdin { get; init; }
    public bool AttachStdout { get; init; }
    public bool AttachStderr { get; init; }
    public bool OpenStdin { get; init; }
    public bool StdinOnce { get; init; }
    public bool Tty { get; init; }
    public bool NetworkDisabled { get; init; }
    public string? Hostname { get; init; }
    public string? StopSignal { get; init; }
    public required HostConfig HostConfig { get; init; }
}

/// <summary>The HostConfig part of a create request: where almost all of the hardening lives.</summary>
public sealed record HostConfig
{
    public string? NetworkMode { get; init; }
    public bool ReadonlyRootfs { get; init; }
    public IReadOnlyDictionary<string, string>? Tmpfs { get; init; }
    public IReadOnlyList<string>? CapDrop { get; init; }
    public IReadOnlyList<string>? CapAdd { get; init; }
    public IReadOnlyList<string>? SecurityOpt { get; init; }
    public long? PidsLimit { get; init; }
    public long? Memory { get; init; }
    public long? MemorySwap { get; init; }
    public long? MemorySwappiness { get; init; }
    public long? KernelMemoryTCP { get; init; }
    public long? NanoCpus { get; init; }
    public long? CpuPeriod { get; init; }
    public long? CpuQuota { get; init; }
    public IReadOnlyList<Ulimit>? Ulimits { get; init; }
    public bool? Init { get; init; }
    public string? IpcMode { get; init; }
    public string? PidMode { get; init; }
    public string? UTSMode { get; init; }
    public string? UsernsMode { get; init; }
    public string? CgroupnsMode { get; init; }
    public long? ShmSize { get; init; }
    public LogConfig? LogConfig { get; init; }

    /// <summary>Left null on purpose: an empty list would disable Docker's default /proc masking.</summary>
    public IReadOnlyList<string>? MaskedPaths { get; init; }

    /// <summary>Left null on purpose: an empty list would drop Docker's default read-only /proc paths.</summary>
    public IReadOnlyList<string>? ReadonlyPaths { get; init; }
    public IReadOnlyList<string>? Binds { get; init; }
    public bool Privileged { get; init; }
    public bool AutoRemove { get; init; }
    public bool? OomKillDisable { get; init; }
    public string? Runtime { get; init; }
    public string? CgroupParent { get; init; }
    public IReadOnlyList<string>? Dns { get; init; }
    public IReadOnlyList<string>? ExtraHosts { get; init; }
}

public sealed record Ulimit(string Name, long Soft, long Hard);

public sealed record LogConfig
{
    public required string Type { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public IReadOnlyDictionary<string, string> Config { get; init; } = new Dictionary<string, string>();
}
