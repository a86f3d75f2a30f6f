using System.Text.Json.Nodes;

namespace Sandbox.Guard.Audit;

/// <summary>Kinds of audit record. Names are on the wire and in the chain's hash: never rename one.</summary>
public static class AuditKinds
{
    /// <summary>A run request: agent, purpose, language, profile, code and its hash, requested limits.</summary>
    public const string Request = "request";

    /// <summary>What was decided about a request: status <c>allowed</c>, <c>rejected</c>, <c>throttled</c> or <c>pending</c>, with the reason.</summary>
    public const string Decision = "decision";

    /// <summary>The effective plan, written before the code starts.</summary>
    public const string Receipt = "receipt";

    /// <summary>A run's one final record: status, usage, hashes and sizes of stdout and stderr (or <c>interrupted</c>).</summary>
    public const string Result = "result";

    /// <summary>An approval decided (approved, denied, expired): by whom and when.</summary>
    public const string Approval = "approval";

    /// <summary>An operator's action: agent created, key rotated, agent revoked, approval hold set or cleared.</summary>
    public const string Admin = "admin";

    /// <summary>A detector fired.</summary>
    public const string Alert = "alert";

    /// <summary>A call refused before any agent was known: malformed, unknown, expired or revoked credentials.</summary>
    public const string Auth = "auth";

    /// <summary>A session opened (agent, profile, limits) or closed (why, and its cells); its cells are runs with their own records.</summary>
    public const string Session = "session";

    /// <summary>Every kind, in the order the front ends list them.</summary>
    public static IReadOnlyList<string> All { get; } = [Request, Decision, Receipt, Result, Approval, Admin, Alert, Auth, Session];
}

/// <summary>A record to append; the store gives it its sequence number, time and hashes.</summary>
public sealed record AuditEntry
{
    public required string Kind { get; init; }

    public string? AgentId { get; init; }

    public string? RunId { get; init; }

    /// <summary>A short filterable status: the decision, the run's final status, the admin action's name.</summary>
    public string? Status { get; init; }

    /// <summary>Everything else about the event.</summary>
    public JsonObject Data { get; init; } = [];
}

/// <summary>
/// A record as stored: its place in the chain and the hashes that tie it to the one before.
/// <see cref="Hash"/> is SHA-256 over <see cref="AuditChain.CanonicalText"/>; <see cref="PreviousHash"/>
/// of the first record is 64 zeros.
/// </summary>
public sealed record AuditRecord
{
    public required long Sequence { get; init; }

    public required DateTimeOffset Time { get; init; }

    public required string Kind { get; init; }

    public string? AgentId { get; init; }

    public string? RunId { get; init; }

    public string? Status { get; init; }

    /// <summary>The event's data as the exact JSON text that was hashed.</summary>
    public required string Data { get; init; }

    public required string PreviousHash { get; init; }

    public required string Hash { get; init; }
}

/// <summary>Which records <c>audit show</c> wants; null fields do not filter.</summary>
public sealed record AuditQuery
{
    public string? AgentId { get; init; }

    public string? RunId { get; init; }

    public string? Kind { get; init; }

    public string? Status { get; init; }

    public DateTimeOffset? From { get; init; }

    public DateTimeOffset? To { get; init; }

    public long AfterSequence { get; init; }

    /// <summary>Most records one query returns; a larger <see cref="Limit"/> is cut to this, and callers page with <see cref="AfterSequence"/>.</summary>
    public const int MaxPageSize = 1000;

    /// <summary>At most this many records (and never more than <see cref="MaxPageSize"/>).</summary>
    public int Limit { get; init; } = MaxPageSize;

    /// <summary>
    /// The page ends once its records' <c>data</c> reach this many characters (it always holds at least one record),
    /// so a page of large records cannot take a large share of the service's memory.
    /// </summary>
    public long MaxDataChars { get; init; } = 8L * 1024 * 1024;
}

/// <summary>The outcome of walking the chain: intact, or the first broken link and what is wrong with it.</summary>
public sealed record AuditVerification(bool Intact, long RecordsChecked, long? FirstBrokenSequence, string? Problem, string? HeadHash)
{
    /// <summary>The head as an anchor (<c>SEQ:HASH</c>) to keep elsewhere and pass to a later verify; null when broken.</summary>
    public AuditAnchor? Head => Intact && HeadHash is { } hash ? new AuditAnchor(RecordsChecked, hash) : null;
}

/// <summary>A run that was accepted (allowed or pending) but has no final record: the process died under it.</summary>
public sealed record OpenRun(string RunId, string? AgentId, string Stage, DateTimeOffset Since);
