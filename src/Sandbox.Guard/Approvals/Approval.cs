using Sandbox.Core.Limits;

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

    /// <summary>What the program reads on standard input; it runs too, so the approver sees it.</summary>
    public string? Stdin { get; init; }

    /// <summary>The files placed next to the program (a <c>helper.py</c> it imports runs as much as the code does).</summary>
    public IReadOnlyList<ApprovalFile> Files { get; init; } = [];

    /// <summary>The backend it would run on (<c>docker</c> or <c>wasm</c>); null for approvals made before approvals bound the whole request.</summary>
    public string? Backend { get; init; }

    /// <summary>The container runtime (<c>runc</c>, <c>crun</c>, <c>runsc</c>); null for approvals made before approvals bound the whole request.</summary>
    public string? Runtime { get; init; }

    /// <summary>The effective limits it would run under; null for approvals made before approvals bound the whole request.</summary>
    public ResourceLimits? Limits { get; init; }

    /// <summary>
    /// The digest (<see cref="ApprovalDigest"/>) of everything that would run, taken when the approval was made: an approved
    /// run is released only while both this record and the run's plan still hash to it. Null for older approvals, which are never released.
    /// </summary>
    public string? RequestSha256 { get; init; }

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

/// <summary>A file of a run waiting for approval: its path, size and SHA-256 as the run would get it, and its content to read.</summary>
/// <param name="Path">The file's path in the run.</param>
/// <param name="Bytes">Its size in bytes.</param>
/// <param name="Sha256">Its SHA-256.</param>
/// <param name="Content">Its content.</param>
public sealed record ApprovalFile(string Path, long Bytes, string Sha256, string Content);
