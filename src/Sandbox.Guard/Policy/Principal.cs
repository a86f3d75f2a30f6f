using Sandbox.Guard.Agents;

namespace Sandbox.Guard.Policy;

/// <summary>Who is calling: an agent, through its own key or through a task token it minted.</summary>
public sealed record Principal(Agent Agent, Credential Credential)
{
    public bool IsTaskToken => Credential.Kind == CredentialKind.TaskToken;

    /// <summary>The profiles this credential may use: a token's own list (a subset of its agent's), else the agent's.</summary>
    public IReadOnlyList<string> Profiles => Credential.Profiles ?? Agent.Profiles;

    /// <summary>Whether this credential may run the profile: exact names only, no wildcard (fail closed).</summary>
    public bool Allows(string profile) => Profiles.Contains(profile, StringComparer.Ordinal);

    public override string ToString() => IsTaskToken ? $"agent '{Agent.Name}' (task token {Credential.Id})" : $"agent '{Agent.Name}'";
}

/// <summary>The outcome of checking a presented key: the principal, or a stable code and a message that says what to do.</summary>
public sealed record AuthOutcome(Principal? Principal, string? Code, string? Message)
{
    public static AuthOutcome Failed(string code, string message) => new(null, code, message);
}

/// <summary>What remains of one budget. <see cref="Name"/> is the cap's name, as in a 429.</summary>
/// <param name="Name">The cap's name, as in a 429 problem's <c>cap</c>.</param>
/// <param name="Limit">The cap.</param>
/// <param name="Used">How much is used in the current window.</param>
/// <param name="Remaining">How much remains.</param>
/// <param name="ResetsAt">When the window resets; null for a budget that never resets (a task token's).</param>
public sealed record Budget(string Name, double Limit, double Used, double Remaining, DateTimeOffset? ResetsAt);

/// <summary>The cap names, on the wire in 429 problems and in each result's budgets.</summary>
public static class CapNames
{
    public const string Rate = "rate_per_minute";
    public const string Concurrency = "concurrent_runs";
    public const string DailyRuns = "daily_runs";
    public const string DailyCpuSeconds = "daily_cpu_seconds";
    public const string DailyStoredMb = "daily_stored_mb";
    public const string TokenRuns = "token_runs";
    public const string TokenCpuSeconds = "token_cpu_seconds";
    public const string TokenMintRate = "token_mint_rate";
}
