using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Mcp;

/// <summary>
/// The structured content of <c>run_code</c> and <c>get_run</c>: everything the text says, output included, so a
/// client that reads only structured content (as the MCP spec lets it) misses nothing. Absent members are left out;
/// <see cref="ToolDefinitions.RunOutputSchema"/> describes it.
/// </summary>
internal sealed record RunToolOutput
{
    public string? RunId { get; init; }

    /// <summary>Set while the run waits for a human: the approval an operator decides.</summary>
    public string? ApprovalId { get; init; }

    /// <summary><c>queued</c>, <c>running</c> or <c>completed</c>; absent when nothing was accepted.</summary>
    public string? State { get; init; }

    /// <summary>
    /// The run's status (ok, runtime_error, …); for a call refused before anything ran, <c>rejected</c> (invalid, not
    /// allowed, over a cap, queue full) or <c>sandbox_error</c> (the service failed or cannot be reached). Absent only
    /// while the run is in progress.
    /// </summary>
    public string? Status { get; init; }

    public int? ExitCode { get; init; }

    public int? Signal { get; init; }

    public string? Language { get; init; }

    public string? Profile { get; init; }

    public string? Backend { get; init; }

    public string? Runtime { get; init; }

    public ResourceUsage? Usage { get; init; }

    /// <summary>The effective limits that were enforced.</summary>
    public ResourceLimits? Limits { get; init; }

    public LimitBreach? LimitBreach { get; init; }

    public long? QueueMs { get; init; }

    public long? RunMs { get; init; }

    /// <summary>The program's stdout as the text shows it (sanitised, head and tail kept when long).</summary>
    public string? Stdout { get; init; }

    /// <summary>The program's stderr, likewise.</summary>
    public string? Stderr { get; init; }

    public bool? StdoutTruncated { get; init; }

    public bool? StderrTruncated { get; init; }

    /// <summary>The files the program left under /tmp/outputs that came back (path, size, SHA-256, media type); their bytes are content blocks.</summary>
    public IReadOnlyList<RunArtifact>? Artifacts { get; init; }

    /// <summary>Files under /tmp/outputs that did not come back, each with the reason.</summary>
    public IReadOnlyList<DroppedArtifact>? ArtifactsDropped { get; init; }

    /// <summary>For a refused request: each problem, naming its field.</summary>
    public IReadOnlyList<FieldError>? Errors { get; init; }

    /// <summary>For a call the gateway refused (queue full, unknown run): its code and, when it helps, when to retry.</summary>
    public ProblemOutput? Problem { get; init; }

    /// <summary>What to do next; present for every failure.</summary>
    public string? Hint { get; init; }

    /// <summary>
    /// The marker this result's text fences its output with (<c>--- stdout [marker] ---</c> … <c>--- end stdout [marker] ---</c>):
    /// random per result and absent from the output, so a fence line without it was printed by the program.
    /// </summary>
    public string? OutputFence { get; init; }
}

/// <summary>An <see cref="ApiProblem"/> as a model sees it, scrubbed.</summary>
internal sealed record ProblemOutput(int Status, string Code, string Detail, int? RetryAfterSeconds);

/// <summary>The structured content of <c>list_languages</c> (MCP wants an object, not an array).</summary>
internal sealed record LanguagesToolOutput(IReadOnlyList<LanguageView> Languages);
