using Sandbox.Core.Limits;

namespace Sandbox.Core.Runs;

/// <summary>The exact account of one run: how it ended, what it printed, what it was allowed and what it used.</summary>
public sealed record RunResult
{
    public required string RunId { get; init; }

    public required RunStatus Status { get; init; }

    /// <summary>The program's exit code; null when it never ran or never exited on its own.</summary>
    public int? ExitCode { get; init; }

    /// <summary>The signal that ended the program, such as 9 for SIGKILL; null when it exited normally.</summary>
    public int? Signal { get; init; }

    public string Stdout { get; init; } = "";

    public bool StdoutTruncated { get; init; }

    public string Stderr { get; init; } = "";

    public bool StderrTruncated { get; init; }

    /// <summary>The bytes behind <see cref="Stdout"/>, exactly as the program wrote them (for callers that ask for raw output).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public ReadOnlyMemory<byte> StdoutBytes { get; init; }

    /// <summary>The bytes behind <see cref="Stderr"/>, exactly as the program wrote them.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public ReadOnlyMemory<byte> StderrBytes { get; init; }

    public ResourceUsage Usage { get; init; } = ResourceUsage.None;

    /// <summary>The effective limits that were enforced; null only when the request was rejected before planning.</summary>
    public ResourceLimits? Limits { get; init; }

    /// <summary>When a limit killed the run: which one, its value and what was observed.</summary>
    public LimitBreach? LimitBreach { get; init; }

    public string? Language { get; init; }

    public string? Backend { get; init; }

    public string? Profile { get; init; }

    public string? Runtime { get; init; }

    /// <summary>A human-readable explanation for <c>rejected</c> and <c>sandbox_error</c>, and for limit kills.</summary>
    public string? Message { get; init; }

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
