using Sandbox.Core.Runs;

namespace Sandbox.Server.Runs;

/// <summary>Where a run is in its life. A run that was accepted always reaches <see cref="Completed"/>.</summary>
public enum RunState
{
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
    public required string Id { get; init; }

    /// <summary><c>queued</c>, <c>running</c> or <c>completed</c>.</summary>
    public required string State { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>Time spent waiting for a free slot, apart from the run itself.</summary>
    public long? QueueMs { get; init; }

    /// <summary>Time from leaving the queue to the final result (the program's own wall time is in result.usage).</summary>
    public long? RunMs { get; init; }

    /// <summary>Set once completed. stdout and stderr are sanitised text; see <see cref="Raw"/> for the bytes.</summary>
    public RunResult? Result { get; init; }

    /// <summary>The exact output bytes in base64, present only when the request asked for raw output.</summary>
    public RawOutput? Raw { get; init; }
}

/// <summary>The program's output exactly as written, base64-encoded.</summary>
public sealed record RawOutput(string Stdout, string Stderr);

/// <summary>One language and the profile that serves it by default.</summary>
public sealed record LanguageView
{
    public required string Language { get; init; }

    public required string DefaultProfile { get; init; }

    public required string Backend { get; init; }

    public string? Description { get; init; }

    /// <summary>Every profile for this language, default first.</summary>
    public required IReadOnlyList<string> Profiles { get; init; }

    /// <summary>The default profile's limits: what a request gets unless it tightens them.</summary>
    public required Core.Limits.ResourceLimits Limits { get; init; }
}
