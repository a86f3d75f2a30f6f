using System.Text.Json.Nodes;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;

namespace Sandbox.Server.Http;

// A wire view, kept apart from the domain type on purpose (Guard.Agents.Agent and the others below): the JSON shape is a
// contract clients generate code from, so it changes only deliberately, and a field added to the domain never leaks onto it.

/// <summary>An agent as operators see it: never a key or a key's hash.</summary>
public sealed record AgentView
{
    /// <summary>The agent's id.</summary>
    public required string Id { get; init; }

    /// <summary>The agent's name, unique on this service.</summary>
    public required string Name { get; init; }

    /// <summary><c>active</c>, <c>revoked</c>, <c>expired</c> or <c>under_approval</c>.</summary>
    public required string State { get; init; }

    /// <summary>The profiles it may use (its allow-list).</summary>
    public required IReadOnlyList<string> Profiles { get; init; }

    /// <summary>The most runs it may start in a minute.</summary>
    public required int RatePerMinute { get; init; }

    /// <summary>The most runs it may have queued or running at once.</summary>
    public required int MaxConcurrentRuns { get; init; }

    /// <summary>The CPU seconds its runs may use in a day (UTC).</summary>
    public required double DailyCpuSeconds { get; init; }

    /// <summary>The most runs it may start in a day (UTC).</summary>
    public required int DailyRuns { get; init; }

    /// <summary>The sum of the memory limits of its open sessions at most, in MiB.</summary>
    public required int MaxSessionMemoryMb { get; init; }

    /// <summary>The most sessions it may hold open at once.</summary>
    public required int MaxOpenSessions { get; init; }

    /// <summary>What its runs may add to the store per UTC day at most (code, stdin, files, output, artifacts), in MiB.</summary>
    public required int DailyStoredMb { get; init; }

    /// <summary>When it was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When its keys stop working.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>When it was revoked; null if it was not.</summary>
    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>Why it was revoked.</summary>
    public string? RevokedReason { get; init; }

    /// <summary>True when each of its runs waits for a human's approval.</summary>
    public bool UnderApproval { get; init; }

    /// <summary>Why it is under approval.</summary>
    public string? UnderApprovalReason { get; init; }

    public static AgentView Of(Agent a, DateTimeOffset now) => new()
    {
        Id = a.Id,
        Name = a.Name,
        State = a.RevokedAt is not null ? "revoked" : now >= a.ExpiresAt ? "expired" : a.UnderApproval ? "under_approval" : "active",
        Profiles = a.Profiles,
        RatePerMinute = a.RatePerMinute,
        MaxConcurrentRuns = a.MaxConcurrentRuns,
        DailyCpuSeconds = a.DailyCpuSeconds,
        DailyRuns = a.DailyRuns,
        MaxSessionMemoryMb = a.MaxSessionMemoryMb,
        MaxOpenSessions = a.MaxOpenSessions,
        DailyStoredMb = a.DailyStoredMb,
        CreatedAt = a.CreatedAt,
        ExpiresAt = a.ExpiresAt,
        RevokedAt = a.RevokedAt,
        RevokedReason = a.RevokedReason,
        UnderApproval = a.UnderApproval,
        UnderApprovalReason = a.UnderApprovalReason,
    };
}

/// <summary>A credential's public facts: id, kind, life. The secret and its hash never leave the store.</summary>
/// <param name="Id">The credential's id.</param>
/// <param name="Kind"><c>agent_key</c> or <c>task_token</c>.</param>
/// <param name="CreatedAt">When it was issued.</param>
/// <param name="ExpiresAt">When it stops working.</param>
/// <param name="RevokedAt">When it was revoked; null if it was not.</param>
/// <param name="Profiles">For a task token: the profiles it may use; null for an agent key (the agent's apply).</param>
/// <param name="MaxRuns">For a task token: the most runs it may start.</param>
/// <param name="CpuSeconds">For a task token: the CPU seconds its runs may use.</param>
public sealed record CredentialView(string Id, string Kind, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, IReadOnlyList<string>? Profiles, int? MaxRuns, double? CpuSeconds)
{
    public static CredentialView Of(Credential c) =>
        new(c.Id, c.Kind == CredentialKind.TaskToken ? "task_token" : "agent_key", c.CreatedAt, c.ExpiresAt, c.RevokedAt, c.Profiles, c.MaxRuns, c.CpuSeconds);
}

/// <summary>An agent with its credentials, for <c>GET /admin/v1/agents/{id}</c>.</summary>
/// <param name="Agent">The agent.</param>
/// <param name="Credentials">Its keys and task tokens, without secrets.</param>
public sealed record AgentDetailView(AgentView Agent, IReadOnlyList<CredentialView> Credentials);

/// <summary>A new key: shown in this one answer and never again.</summary>
/// <param name="Agent">The agent.</param>
/// <param name="Key">The key (<c>sbxa_…</c>), shown in this answer only.</param>
/// <param name="KeyId">The key's credential id.</param>
/// <param name="Notice">A reminder that the key is not shown again.</param>
public sealed record IssuedKeyView(AgentView Agent, string Key, string KeyId, string Notice);

/// <summary>The answer to a revocation: the agent, and how many of its runs were stopped.</summary>
/// <param name="Agent">The agent, now revoked.</param>
/// <param name="StoppedRuns">How many of its runs were stopped.</param>
public sealed record RevokedView(AgentView Agent, int StoppedRuns);

/// <summary>A pending (or decided) approval as the operator sees it, code included, so they know what they approve.</summary>
public sealed record ApprovalAdminView
{
    /// <summary>The approval's id, for <c>/approve</c> and <c>/deny</c>.</summary>
    public required string Id { get; init; }

    /// <summary><c>pending</c>, <c>approved</c>, <c>denied</c> or <c>expired</c>.</summary>
    public required string State { get; init; }

    /// <summary>The run waiting on it.</summary>
    public required string RunId { get; init; }

    /// <summary>The agent that asked for the run.</summary>
    public required string Agent { get; init; }

    /// <summary>The profile it would run under.</summary>
    public required string Profile { get; init; }

    /// <summary>Its language.</summary>
    public required string Language { get; init; }

    /// <summary>Why the agent runs it, in its own words.</summary>
    public string? Purpose { get; init; }

    /// <summary>Why a human must decide.</summary>
    public required string Reason { get; init; }

    /// <summary>SHA-256 of the code.</summary>
    public required string CodeSha256 { get; init; }

    /// <summary>The code itself, to read before deciding.</summary>
    public required string Code { get; init; }

    /// <summary>Standard input, the files (path, size, SHA-256, content), backend, runtime and limits: everything that runs besides the code.</summary>
    public string? Stdin { get; init; }

    /// <summary>The files the run would get.</summary>
    public required IReadOnlyList<ApprovalFile> Files { get; init; }

    /// <summary>Where it would run: <c>docker</c> or <c>wasm</c>.</summary>
    public string? Backend { get; init; }

    /// <summary>The container runtime, on the Docker backend.</summary>
    public string? Runtime { get; init; }

    /// <summary>The limits it would run under.</summary>
    public Core.Limits.ResourceLimits? Limits { get; init; }

    /// <summary>The digest of all of it when the approval was made; the run is released only if it still matches.</summary>
    public string? RequestSha256 { get; init; }

    /// <summary>When the run asked.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When an undecided approval expires.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>Who decided; null while pending.</summary>
    public string? DecidedBy { get; init; }

    /// <summary>When it was decided; null while pending.</summary>
    public DateTimeOffset? DecidedAt { get; init; }

    /// <summary>The operator's note, if any.</summary>
    public string? Note { get; init; }

    public static ApprovalAdminView Of(Approval a) => new()
    {
        Id = a.Id,
        State = ApprovalStates.Name(a.State),
        RunId = a.RunId,
        Agent = a.AgentName,
        Profile = a.Profile,
        Language = a.Language,
        Purpose = a.Purpose,
        Reason = a.Reason,
        CodeSha256 = a.CodeSha256,
        Code = a.Code,
        Stdin = a.Stdin,
        Files = a.Files,
        Backend = a.Backend,
        Runtime = a.Runtime,
        Limits = a.Limits,
        RequestSha256 = a.RequestSha256,
        CreatedAt = a.CreatedAt,
        ExpiresAt = a.ExpiresAt,
        DecidedBy = a.DecidedBy,
        DecidedAt = a.DecidedAt,
        Note = a.Note,
    };
}

/// <summary>
/// The chain walked: intact, or the first broken record and why. <c>head</c> (<c>SEQ:HASH</c>) is the anchor to keep
/// off this host and pass back as <c>?anchor=</c> later, which also detects records cut off the end.
/// </summary>
/// <param name="Intact">True when every record's hash chains to the one before and every anchor is found.</param>
/// <param name="RecordsChecked">How many records were checked.</param>
/// <param name="HeadHash">The last record's hash.</param>
/// <param name="Head">The last record as <c>SEQ:HASH</c>: the anchor to keep elsewhere.</param>
/// <param name="AnchorsChecked">How many anchors were checked.</param>
/// <param name="FirstBrokenSequence">The first record that breaks the chain; null when intact.</param>
/// <param name="Problem">What is wrong; null when intact.</param>
public sealed record AuditVerificationView(bool Intact, long RecordsChecked, string? HeadHash, string? Head, int AnchorsChecked, long? FirstBrokenSequence, string? Problem)
{
    public static AuditVerificationView Of(AuditVerification v, int anchors) =>
        new(v.Intact, v.RecordsChecked, v.HeadHash, v.Head?.ToString(), anchors, v.FirstBrokenSequence, v.Problem);
}

/// <summary>One audit record, its data as JSON.</summary>
/// <param name="Sequence">The record's sequence number: its position in the log.</param>
/// <param name="Time">When it was recorded.</param>
/// <param name="Kind">What happened, such as <c>run_completed</c>.</param>
/// <param name="AgentId">The agent concerned, if any.</param>
/// <param name="RunId">The run concerned, if any.</param>
/// <param name="Status">The outcome, such as a run's status.</param>
/// <param name="Data">The record's details as JSON.</param>
/// <param name="PreviousHash">The hash of the record before.</param>
/// <param name="Hash">This record's hash, over its content and the previous hash.</param>
public sealed record AuditRecordView(long Sequence, DateTimeOffset Time, string Kind, string? AgentId, string? RunId, string? Status, JsonNode? Data, string PreviousHash, string Hash)
{
    public static AuditRecordView Of(AuditRecord r) => new(r.Sequence, r.Time, r.Kind, r.AgentId, r.RunId, r.Status, JsonNode.Parse(r.Data), r.PreviousHash, r.Hash);
}

/// <summary>A minted task token: shown once.</summary>
/// <param name="Token">The task token (<c>sbxt_…</c>), shown in this answer only: send it as <c>Authorization: Bearer</c>.</param>
/// <param name="Id">The token's credential id (in audit records and <c>/v1/me</c>).</param>
/// <param name="Agent">The agent the token acts for.</param>
/// <param name="Profiles">The profiles it may use.</param>
/// <param name="ExpiresAt">When it stops working.</param>
/// <param name="MaxRuns">The most runs it may start.</param>
/// <param name="CpuSeconds">The CPU seconds its runs may use in all.</param>
public sealed record TokenView(string Token, string Id, string Agent, IReadOnlyList<string> Profiles, DateTimeOffset ExpiresAt, int MaxRuns, double CpuSeconds);

/// <summary>Who the key belongs to and what remains of its budgets.</summary>
/// <param name="Agent">The agent behind the key.</param>
/// <param name="Credential">The key or task token used for this call.</param>
/// <param name="Budgets">What remains of each budget (the agent's, and the task token's if one is used).</param>
public sealed record MeView(AgentView Agent, CredentialView Credential, IReadOnlyList<Budget> Budgets);

public sealed record TokenRequestBody
{
    /// <summary>The profiles the token may use: some of this key's. Required.</summary>
    public List<string>? Profiles { get; init; }

    /// <summary>How long the token lives, in seconds (at most an hour).</summary>
    public int? TtlSeconds { get; init; }

    /// <summary>The most runs the token may start: its own budget, inside the key's.</summary>
    public int? MaxRuns { get; init; }

    /// <summary>The CPU seconds the token's runs may use in all.</summary>
    public double? CpuSeconds { get; init; }

    /// <summary>What the token is for, recorded in the audit log.</summary>
    public string? Purpose { get; init; }
}

public sealed record CreateAgentBody
{
    /// <summary>The agent's name, unique on this service. Required.</summary>
    public string? Name { get; init; }

    /// <summary>The profiles it may use (its allow-list). Required.</summary>
    public List<string>? Profiles { get; init; }

    /// <summary>The most runs it may start in a minute.</summary>
    public int? RatePerMinute { get; init; }

    /// <summary>The most runs it may have queued or running at once.</summary>
    public int? MaxConcurrentRuns { get; init; }

    /// <summary>The CPU seconds its runs may use in a day (UTC).</summary>
    public double? DailyCpuSeconds { get; init; }

    /// <summary>The most runs it may start in a day (UTC).</summary>
    public int? DailyRuns { get; init; }

    /// <summary>The sum of the memory limits of its open sessions at most, in MiB (0: no sessions); 1024 when left out.</summary>
    public int? MaxSessionMemoryMb { get; init; }

    /// <summary>The most sessions it may hold open at once (0: no sessions); 4 when left out.</summary>
    public int? MaxOpenSessions { get; init; }

    /// <summary>What its runs may add to the store per UTC day at most, in MiB (1 to 1048576); 1024 when left out.</summary>
    public int? DailyStoredMb { get; init; }

    /// <summary>Days until its keys stop working.</summary>
    public double? ExpiresInDays { get; init; }
}

/// <summary>The body of revoke, hold, approve and deny: a reason or note, and who acts (recorded in the audit log).</summary>
public sealed record AdminActionBody
{
    /// <summary>Why, recorded in the audit log.</summary>
    public string? Reason { get; init; }

    /// <summary>A note on the decision (approvals), recorded with it.</summary>
    public string? Note { get; init; }

    /// <summary>Who acts, recorded as <c>admin:&lt;by&gt;</c>; <c>api</c> when left out.</summary>
    public string? By { get; init; }
}
