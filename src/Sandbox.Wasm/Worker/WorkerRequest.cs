using System.Text.Json.Serialization;
using Sandbox.Wasm.Backend;

namespace Sandbox.Wasm.Worker;

/// <summary>
/// Everything a worker needs to run one guest, sent as the first frame. The worker reads nothing else from the
/// host: no files but the read-only preopens the service mounted for it, no environment but this.
/// </summary>
internal sealed record WorkerRequest
{
    /// <summary>The run's id, for the worker's own diagnostics.</summary>
    public required string RunId { get; init; }

    /// <summary>The guest's argv, program name first.</summary>
    public required IReadOnlyList<string> Args { get; init; }

    /// <summary>The guest's environment: only what the profile configures.</summary>
    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    public byte[] Stdin { get; init; } = [];

    /// <summary>The initial contents of the guest's private <c>/tmp</c>, by relative path.</summary>
    public required IReadOnlyDictionary<string, byte[]> Files { get; init; }

    /// <summary>Read-only folders: the guest's path, and where the service mounted the host folder inside the worker's sandbox.</summary>
    public required IReadOnlyList<WorkerPreopen> Preopens { get; init; }

    /// <summary>Linear memory and tables together may not exceed this.</summary>
    public required long MemoryBytes { get; init; }

    public required long TmpBytes { get; init; }

    public required long FileSizeBytes { get; init; }

    public required long StdoutBytes { get; init; }

    public required long StderrBytes { get; init; }

    /// <summary>An optional, deterministic instruction budget (the profile's <c>fuel</c>); null for none.</summary>
    public long? Fuel { get; init; }

    /// <summary>Milliseconds from when the worker reads this until the guest is interrupted (the service kills it a little later regardless).</summary>
    public required long DeadlineMs { get; init; }

    /// <summary>The profile's caps on the files handed back from <c>/tmp/outputs</c>; null returns none.</summary>
    public Core.Limits.ArtifactLimits? Artifacts { get; init; }

    /// <summary>True when the module is the caller's own (language <c>wasm</c>): an invalid module is the caller's fault, not ours.</summary>
    public bool CallerModule { get; init; }

    /// <summary>For a warm worker's template only: whether it captures its pre-initialised guest, or restores one sent after the module.</summary>
    public WarmSnapshotMode Snapshot { get; init; }
}

/// <summary>How a warm worker reaches its gate (<see cref="GuestSnapshotFile"/>).</summary>
internal enum WarmSnapshotMode
{
    /// <summary>Runs the guest's start-up; no snapshot.</summary>
    None,

    /// <summary>Runs the guest's start-up interpreted only, and sends a <see cref="FrameType.Captured"/> snapshot before parking.</summary>
    Take,

    /// <summary>Restores the <see cref="FrameType.Snapshot"/> that follows the module instead of running the start-up.</summary>
    Restore,
}

/// <summary>A read-only folder the guest sees at <paramref name="GuestPath"/>.</summary>
internal sealed record WorkerPreopen(string GuestPath, string Path);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(WorkerRequest))]
[JsonSerializable(typeof(WasmOutcome))]
internal sealed partial class WorkerJsonContext : JsonSerializerContext;
