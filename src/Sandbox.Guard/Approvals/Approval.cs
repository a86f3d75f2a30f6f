namespace Sandbox.Guard.Approvals;

public enum ApprovalState
{
    Pending,
    Approved,
    Denied,
    Expired,
}

/// <summary>A run waiting for (or past) a human's decision.</summary>
public sealed record Approval
{
    /// <summary><c>apr_</c> and 16 lowercase hex characters.</summary>
    public required string Id { get; init; }

    public required string RunId { get; init; }

    public required string AgentId { get; init; }

    public required string AgentName { get; init; }

    public required string Profile { get; init; }

    public required string Language { get; init; }

    public required string CodeSha256 { get; init; }

    /// <summary>The code itself, so the approver sees what they approve.</summary>
    public required string Code { get; init; }

    public string? Purpose { get; init; }

    /// <summary>Why approval is needed: the profile requires it, or the agent is under approval (and why).</summary>
    public required string Reason { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    public ApprovalState State { get; init; } = ApprovalState.Pending;

    public string? DecidedBy { get; init; }

    public DateTimeOffset? DecidedAt { get; init; }

    public string? Note { get; init; }
}
