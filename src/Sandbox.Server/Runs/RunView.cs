using Sandbox.Core.Runs;

namespace Sandbox.Server.Runs;

/// <summary>Where a run is in its life. A run that was accepted always reaches <see cref="Completed"/>.</summary>
public enum RunState
{
    /// <summary>Waiting for a human to approve or deny it; nothing has started.</summary>
    PendingApproval,
    Queued,
    Running,
    Completed,
}

/// <summary>
/// A run as callers see it (HTTP, MCP): its state, how long it queued and ran, and once completed the
/// result with output already made safe for a model or a terminal.
/// </summary>
public sealed record RunView
{
    /// <summary>The run's id: <c>GET /v1/runs/{id}</c> reads it, <c>/events</c> streams it.</summary>
    public required string Id { get; init; }

    /// <summary><c>pending_approval</c>, <c>queued</c>, <c>running</c> or <c>completed</c>.</summary>
    public required string State { get; init; }

    /// <summary>When the request was accepted.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the program started; null until then.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When the run completed; null until then.</summary>
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>Time spent waiting for a free slot, apart from the run itself.</summary>
    public long? QueueMs { get; init; }

    /// <summary>Time from leaving the queue to the final result (the program's own wall time is in result.usage).</summary>
    public long? RunMs { get; init; }

    /// <summary>Set once completed. stdout and stderr are sanitised text; see <c>raw</c> for the bytes.</summary>
    public RunResult? Result { get; init; }

    /// <summary>The exact output bytes in base64, present only when the request asked for raw output.</summary>
    public RawOutput? Raw { get; init; }

    /// <summary>True when this run's output is no longer kept: its agent's retained output passed <c>MaxRetainedOutputBytesPerAgent</c> and the oldest went first (status, usage and the audit log's hashes remain).</summary>
    public bool? OutputDropped { get; init; }

    /// <summary>The agent that asked for the run.</summary>
    public string? Agent { get; init; }

    /// <summary>Present when the run needs (or needed) a human's approval.</summary>
    public ApprovalView? Approval { get; init; }

    /// <summary>Once completed: what remains of each of the agent's (and the task token's) budgets.</summary>
    public IReadOnlyList<Sandbox.Guard.Policy.Budget>? Budgets { get; init; }
}

/// <summary>A run's approval as its agent sees it: the id to quote to an operator, why it is needed, and how it ended.</summary>
public sealed record ApprovalView
{
    /// <summary>The approval's id, to quote to an operator.</summary>
    public required string Id { get; init; }

    /// <summary><c>pending</c>, <c>approved</c>, <c>denied</c> or <c>expired</c>.</summary>
    public required string State { get; init; }

    /// <summary>Why a human must decide.</summary>
    public required string Reason { get; init; }

    /// <summary>When an undecided approval expires.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>Who decided; null while pending.</summary>
    public string? DecidedBy { get; init; }

    /// <summary>When it was decided; null while pending.</summary>
    public DateTimeOffset? DecidedAt { get; init; }

    /// <summary>The operator's note, if any.</summary>
    public string? Note { get; init; }
}

/// <summary>The program's output exactly as written, base64-encoded.</summary>
/// <param name="Stdout">stdout, base64.</param>
/// <param name="Stderr">stderr, base64.</param>
public sealed record RawOutput(string Stdout, string Stderr);

/// <summary>One language and the profile that serves it by default.</summary>
public sealed record LanguageView
{
    /// <summary>The language's name, as a request's <c>language</c>.</summary>
    public required string Language { get; init; }

    /// <summary>The profile a request without <c>profile</c> gets.</summary>
    public required string DefaultProfile { get; init; }

    /// <summary>The default profile's backend: <c>docker</c> or <c>wasm</c>.</summary>
    public required string Backend { get; init; }

    /// <summary>A short description, such as the interpreter's version.</summary>
    public string? Description { get; init; }

    /// <summary>Every profile for this language, default first.</summary>
    public required IReadOnlyList<string> Profiles { get; init; }

    /// <summary>The default profile's limits: what a request gets unless it tightens them.</summary>
    public required Core.Limits.ResourceLimits Limits { get; init; }

    /// <summary>
    /// The packages preinstalled in the default profile's image, with versions, listed by the image itself when it
    /// was built; absent when no list is known. Nothing else can be installed: the sandbox has no network.
    /// </summary>
    public IReadOnlyList<Core.Profiles.PackageInfo>? Packages { get; init; }
}
