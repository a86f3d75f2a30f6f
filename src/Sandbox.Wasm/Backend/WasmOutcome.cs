using Sandbox.Core.Execution;

namespace Sandbox.Wasm.Backend;

/// <summary>
/// How a guest's run ended, as the engine inside the worker saw it, and what the worker measured. It crosses the
/// worker's pipe as JSON, so it is data only. At most one of the ending members is set; none means <c>_start</c> returned.
/// </summary>
internal sealed record WasmOutcome
{
    /// <summary>proc_exit(n), or 0 when <c>_start</c> returned.</summary>
    public int? ExitCode { get; init; }

    /// <summary>The guest trapped (an interrupt at the deadline and fuel running out are traps too).</summary>
    public WasmTrapKind? Trap { get; init; }

    /// <summary>The guest wrote past this stream's cap.</summary>
    public OutputStreamKind? OutputLimit { get; init; }

    /// <summary>The module imports something we do not provide.</summary>
    public string? LinkError { get; init; }

    /// <summary>A memory's or table's minimum size does not fit the memory limit: the module needs more than the run may have.</summary>
    public string? MemoryMinimumRefused { get; init; }

    /// <summary>The module has no <c>_start</c> of type [] → [].</summary>
    public bool MissingStart { get; init; }

    /// <summary>The module does not decode or validate (or exceeds an engine cap).</summary>
    public string? InvalidModule { get; init; }

    /// <summary>The request's files do not fit the guest's <c>/tmp</c>.</summary>
    public string? FilesRejected { get; init; }

    /// <summary>The worker's managed heap reached its hard limit while the guest ran.</summary>
    public bool OutOfMemory { get; init; }

    /// <summary>Our own failure (a bug or a host I/O error), never the guest's; the service logs it.</summary>
    public string? Failure { get; init; }

    /// <summary>A memory.grow or table.grow was refused by the memory cap.</summary>
    public bool MemoryGrowRefused { get; init; }

    /// <summary>Linear memory plus tables at the end (they only grow, so this is their high-water mark).</summary>
    public long GuestMemoryBytes { get; init; }

    /// <summary>Instructions charged, when fuel was metered.</summary>
    public long? FuelUsed { get; init; }

    public long OutputBytes { get; init; }

    public bool StdoutTruncated { get; init; }

    public bool StderrTruncated { get; init; }

    /// <summary>Where the worker's time went (for the debug log only).</summary>
    public WorkerPhases? Phases { get; init; }

    /// <summary>Files under <c>/tmp/outputs</c> the worker did not send, with the reason (the files it sent come as artifact frames).</summary>
    public IReadOnlyList<Core.Runs.DroppedArtifact>? ArtifactsDropped { get; init; }

    /// <summary>The files to send as artifact frames before this outcome; never part of its JSON.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<Core.Runs.RunArtifact> Artifacts { get; init; } = [];
}
