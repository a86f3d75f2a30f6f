using Sandbox.Guard.Agents;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;

namespace Sandbox.Guard.Store;

/// <summary>
/// Everything the guard keeps: agents, credentials, usage counters, approvals and the audit chain.
/// SQLite by default (<c>SqliteGuardStore</c>); the interface is what a shared database would
/// implement when several nodes run side by side. Every method is safe to call from many threads and,
/// for SQLite, from several processes (the CLI and the service share the file).
/// Mutations that an operator makes take the audit entry to append in the same transaction, so an
/// action and its record land together or not at all.
/// Expected failures (a name taken, an approval already decided) are return values; exceptions mean
/// the store itself is broken.
/// </summary>
public interface IGuardStore : IAsyncDisposable
{
    // ---- agents and credentials ----

    /// <summary>False (and nothing written) when the name is taken.</summary>
    Task<bool> CreateAgentAsync(Agent agent, Credential key, AuditEntry audit, CancellationToken cancellationToken);

    /// <summary>By id (<c>agt_…</c>) or by name.</summary>
    Task<Agent?> FindAgentAsync(string idOrName, CancellationToken cancellationToken);

    Task<IReadOnlyList<Agent>> ListAgentsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Revokes every agent key of the agent, and every task token they minted, and stores <paramref name="newKey"/>;
    /// false when the agent is unknown or revoked.
    /// </summary>
    Task<bool> RotateKeyAsync(string agentId, Credential newKey, AuditEntry audit, CancellationToken cancellationToken);

    /// <summary>Marks the agent revoked (its key and tokens die with it); false when unknown or already revoked.</summary>
    Task<bool> RevokeAgentAsync(string agentId, DateTimeOffset at, string reason, AuditEntry audit, CancellationToken cancellationToken);

    /// <summary>Puts the agent under approval, or clears it (<paramref name="reason"/> null); false when unknown.</summary>
    Task<bool> SetUnderApprovalAsync(string agentId, bool underApproval, string? reason, AuditEntry audit, CancellationToken cancellationToken);

    Task<Credential?> FindCredentialAsync(string credentialId, CancellationToken cancellationToken);

    /// <summary>Stores a task token minted by an agent.</summary>
    Task AddTaskTokenAsync(Credential token, AuditEntry audit, CancellationToken cancellationToken);

    /// <summary>The agent's credentials (keys and tokens), newest first.</summary>
    Task<IReadOnlyList<Credential>> ListCredentialsAsync(string agentId, CancellationToken cancellationToken);

    // ---- usage ----

    /// <summary>Usage of a subject (an agent id or a token id) in a period (a UTC day <c>yyyy-MM-dd</c>, or <c>life</c> for tokens).</summary>
    Task<Usage> GetUsageAsync(string subject, string period, CancellationToken cancellationToken);

    /// <summary>Adds to a subject's usage in a period (created at zero when absent).</summary>
    Task AddUsageAsync(string subject, string period, int runs, long cpuMs, CancellationToken cancellationToken);

    // ---- approvals ----

    Task CreateApprovalAsync(Approval approval, CancellationToken cancellationToken);

    Task<Approval?> FindApprovalAsync(string id, CancellationToken cancellationToken);

    /// <summary>Newest first; all states when <paramref name="state"/> is null.</summary>
    Task<IReadOnlyList<Approval>> ListApprovalsAsync(ApprovalState? state, CancellationToken cancellationToken);

    /// <summary>
    /// Moves a pending approval to approved, denied or expired, with the audit record in the same
    /// transaction; null when it is unknown or no longer pending (the decided one is not changed).
    /// </summary>
    Task<Approval?> DecideApprovalAsync(string id, ApprovalState decision, string decidedBy, string? note, DateTimeOffset at, AuditEntry audit, CancellationToken cancellationToken);

    // ---- audit ----

    /// <summary>Appends one record at the head of the chain (serialised across processes).</summary>
    Task<AuditRecord> AppendAsync(AuditEntry entry, CancellationToken cancellationToken);

    /// <summary>Records matching the query, in sequence order.</summary>
    Task<IReadOnlyList<AuditRecord>> QueryAuditAsync(AuditQuery query, CancellationToken cancellationToken);

    /// <summary>Walks the whole chain (see <see cref="AuditChain.Verify"/>).</summary>
    Task<AuditVerification> VerifyAuditAsync(CancellationToken cancellationToken);

    /// <summary>Walks the whole chain and checks each anchor (a head kept elsewhere) is still in it (see <see cref="AuditChain.Verify"/>).</summary>
    Task<AuditVerification> VerifyAuditAsync(IReadOnlyCollection<AuditAnchor> anchors, CancellationToken cancellationToken);

    /// <summary>The last record's sequence and hash as stored, unverified (genesis when empty): a cheap anchor to copy elsewhere.</summary>
    Task<AuditAnchor> AuditHeadAsync(CancellationToken cancellationToken);

    /// <summary>Runs with a decision <c>allowed</c> or <c>pending</c> and no <c>result</c> record.</summary>
    Task<IReadOnlyList<OpenRun>> OpenRunsAsync(CancellationToken cancellationToken);

    // ---- runs, kept for the retention period ----

    /// <summary>
    /// Stores an accepted run's row and, when given, its receipt, in one transaction: a run that has a receipt has a row.
    /// Throws (nothing written) when the store fails or the row's idempotency key is already bound.
    /// </summary>
    Task AdmitRunAsync(StoredRun run, AuditEntry? receipt, CancellationToken cancellationToken);

    /// <summary>
    /// Commits <paramref name="transition"/> (an admission: <see cref="RunTransition.Admit"/> set) only when the agent's runs
    /// on every node sharing the store leave room for it under <paramref name="caps"/>, in the same transaction as the
    /// check; otherwise writes nothing and returns the name of the cap that refused it (see <c>CapNames</c>). Null when
    /// committed. A store only one node uses (SQLite) leaves the caps to that node's ledger, which already checked them,
    /// and commits. Throws, with nothing written, when the store fails.
    /// </summary>
    Task<string?> AdmitWithinCapsAsync(RunTransition transition, AdmissionCaps caps, CancellationToken cancellationToken);

    /// <summary>
    /// Records a run's end (status, and its view as JSON), and moves its expiry when <paramref name="expiresAt"/> is given;
    /// false when the run has no row or already completed (the first end wins).
    /// </summary>
    Task<bool> CompleteRunAsync(string runId, string status, string? reason, DateTimeOffset completedAt, string? view, DateTimeOffset? expiresAt, CancellationToken cancellationToken);

    Task<StoredRun?> FindRunAsync(string runId, CancellationToken cancellationToken);

    /// <summary>
    /// One file a completed run returned (<see cref="RunCompletion.Artifacts"/>), or null when the run or the file is not kept.
    /// The caller checks who may see the run first.
    /// </summary>
    Task<StoredArtifact?> FindRunArtifactAsync(string runId, string path, CancellationToken cancellationToken);

    /// <summary>A kept run's inputs and receipted plan as written at admission (JSON), or null when it has none or is gone.</summary>
    Task<string?> FindRunInputsAsync(string runId, CancellationToken cancellationToken);

    /// <summary>The run bound to an idempotency key (as scoped by the caller), if it is still kept.</summary>
    Task<StoredRun?> FindRunByIdempotencyKeyAsync(string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>
    /// Commits one step of a run's life in one transaction (see <see cref="RunTransition"/>); false, with nothing written,
    /// when it would complete a run whose row is already completed. Throws, with nothing written, when the store fails.
    /// </summary>
    Task<bool> CommitAsync(RunTransition transition, CancellationToken cancellationToken);

    /// <summary>
    /// Appends output chunks of running runs, all in one transaction (one small write per flush, whatever the number of
    /// runs). A chunk of a run that has no row or is already completed is not written: its end holds its output, and
    /// deletes the chunks written before, in its own transaction.
    /// </summary>
    Task AppendRunOutputAsync(IReadOnlyList<RunOutputChunk> chunks, CancellationToken cancellationToken);

    /// <summary>The output a still-open run persisted as it streamed, in the order written (empty when none).</summary>
    Task<IReadOnlyList<RunOutputChunk>> ReadRunOutputAsync(string runId, CancellationToken cancellationToken);

    /// <summary>
    /// At most <paramref name="max"/> chunks of a still-open run written after the one whose <see cref="RunOutputChunk.Seq"/>
    /// is <paramref name="afterSeq"/> (0 for the first), in the order written: a reader that follows a run pages through its
    /// output with bounded memory. Empty once the run ended (its end deletes them) or when nothing new was written.
    /// </summary>
    Task<IReadOnlyList<RunOutputChunk>> ReadRunOutputAfterAsync(string runId, long afterSeq, int max, CancellationToken cancellationToken);

    /// <summary>
    /// A tiny write transaction (one row of a probe table), so readiness reports a store that can no longer write (a full
    /// disk, a read-only file) instead of only one that cannot be opened. Throws when the write fails.
    /// </summary>
    Task ProbeWriteAsync(CancellationToken cancellationToken);

    /// <summary>Deletes up to <paramref name="max"/> runs whose expiry is at or before <paramref name="now"/>, oldest first; returns how many.</summary>
    Task<int> DeleteExpiredRunsAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);
}

/// <summary>A subject's counters in one period; <see cref="StoredBytes"/> is what its runs added to the store (agents only).</summary>
public sealed record Usage(int Runs, long CpuMs, long StoredBytes = 0)
{
    public static readonly Usage Zero = new(0, 0);
}
