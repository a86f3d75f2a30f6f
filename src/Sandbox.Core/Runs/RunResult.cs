using Sandbox.Core.Limits;

namespace Sandbox.Core.Runs;

/// <summary>The exact account of one run: how it ended, what it printed, what it was allowed and what it used.</summary>
public sealed record RunResult
{
    /// <summary>The run's id, the same as the run view's <c>id</c>.</summary>
    public required string RunId { get; init; }

    /// <summary>How the run ended: <c>ok</c> only when the program exited 0 within every limit.</summary>
    public required RunStatus Status { get; init; }

    /// <summary>The program's exit code; null when it never ran or never exited on its own.</summary>
    public int? ExitCode { get; init; }

    /// <summary>The signal that ended the program, such as 9 for SIGKILL; null when it exited normally.</summary>
    public int? Signal { get; init; }

    /// <summary>What the program wrote to stdout, as text made safe for a terminal or a model, cut at the stdout limit.</summary>
    public string Stdout { get; init; } = "";

    /// <summary>True when stdout was cut at the limit; the rest was discarded.</summary>
    public bool StdoutTruncated { get; init; }

    /// <summary>What the program wrote to stderr, as safe text, cut at the stderr limit.</summary>
    public string Stderr { get; init; } = "";

    /// <summary>True when stderr was cut at the limit.</summary>
    public bool StderrTruncated { get; init; }

    /// <summary>The bytes behind <see cref="Stdout"/>, exactly as the program wrote them (for callers that ask for raw output).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public ReadOnlyMemory<byte> StdoutBytes { get; init; }

    /// <summary>The bytes behind <see cref="Stderr"/>, exactly as the program wrote them.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public ReadOnlyMemory<byte> StderrBytes { get; init; }

    /// <summary>What the run used: wall and CPU time, peak memory, output bytes.</summary>
    public ResourceUsage Usage { get; init; } = ResourceUsage.None;

    /// <summary>The effective limits that were enforced; null only when the request was rejected before planning.</summary>
    public ResourceLimits? Limits { get; init; }

    /// <summary>When a limit killed the run: which one, its value and what was observed.</summary>
    public LimitBreach? LimitBreach { get; init; }

    /// <summary>The language that ran.</summary>
    public string? Language { get; init; }

    /// <summary>Where it ran: <c>docker</c> or <c>wasm</c>.</summary>
    public string? Backend { get; init; }

    /// <summary>The profile that ran it.</summary>
    public string? Profile { get; init; }

    /// <summary>The container runtime (<c>runc</c>, <c>crun</c>, or <c>runsc</c> for gVisor) on the Docker backend.</summary>
    public string? Runtime { get; init; }

    /// <summary>A human-readable explanation for <c>rejected</c> and <c>sandbox_error</c>, and for limit kills.</summary>
    public string? Message { get; init; }

    /// <summary>
    /// Advice on a failure that the status alone does not give: for a <c>runtime_error</c> that imported a package the
    /// sandbox does not have, that nothing can be installed (no network) and which packages are there.
    /// </summary>
    public string? Hint { get; init; }

    /// <summary>
    /// The files the program left under <c>/tmp/outputs</c> that came back, each with its path, size, SHA-256 and sniffed
    /// media type (the bytes are downloaded or embedded separately); null when there were none.
    /// </summary>
    public IReadOnlyList<RunArtifact>? Artifacts { get; init; }

    /// <summary>Files under <c>/tmp/outputs</c> that did not come back (past a cap, a link, an unsafe name), each with the reason; null when none.</summary>
    public IReadOnlyList<DroppedArtifact>? ArtifactsDropped { get; init; }

    /// <summary>For <c>rejected</c>: every problem with the request, each naming its field.</summary>
    public IReadOnlyList<FieldError>? Errors { get; init; }

    /// <summary>A rejection: nothing ran.</summary>
    public static RunResult Rejected(string runId, IReadOnlyList<FieldError> errors, string? language = null) => new()
    {
        RunId = runId,
        Status = RunStatus.Rejected,
        Language = language,
        Errors = errors,
        Message = "rejected: " + string.Join("; ", errors.Select(e => e.ToString())),
    };

    /// <summary>Our infrastructure failed; the message says what and how to fix it, without host details.</summary>
    public static RunResult SandboxError(string runId, string message) => new()
    {
        RunId = runId,
        Status = RunStatus.SandboxError,
        Message = message,
    };
}
