namespace Sandbox.Guard.Agents;

/// <summary>What a credential is: an agent's own key, or a short-lived task token minted from it.</summary>
public enum CredentialKind
{
    AgentKey,
    TaskToken,
}

/// <summary>
/// A stored credential. Only the SHA-256 of its secret is kept: the secret is shown once, at creation,
/// and cannot be recovered from the store.
/// </summary>
public sealed record Credential
{
    /// <summary>The public part of the key (12 lowercase hex characters), used to look it up.</summary>
    public required string Id { get; init; }

    public required string AgentId { get; init; }

    public required CredentialKind Kind { get; init; }

    /// <summary>SHA-256 of the secret part, lowercase hex.</summary>
    public required string SecretSha256 { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>Task tokens only: the profiles it may use (a subset of its agent's).</summary>
    public IReadOnlyList<string>? Profiles { get; init; }

    /// <summary>Task tokens only: runs over its whole life.</summary>
    public int? MaxRuns { get; init; }

    /// <summary>Task tokens only: measured CPU seconds over its whole life.</summary>
    public double? CpuSeconds { get; init; }

    /// <summary>Task tokens only: what the agent said the token is for.</summary>
    public string? Purpose { get; init; }

    /// <summary>
    /// Task tokens only: the agent key that minted it. The token dies with that key (rotated, revoked or expired);
    /// null for tokens minted before tokens recorded their key.
    /// </summary>
    public string? ParentId { get; init; }
}
