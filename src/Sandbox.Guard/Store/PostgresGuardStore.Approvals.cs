using System.Data.Common;
using Npgsql;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;

namespace Sandbox.Guard.Store;

/// <summary>Approvals: runs waiting for a human.</summary>
public sealed partial class PostgresGuardStore
{
    private const string ApprovalColumns =
        "id, run_id, agent_id, agent_name, profile, language, code_sha256, code, purpose, reason, created_at, expires_at, state, decided_by, decided_at, note, details, request_sha256";

    public async Task CreateApprovalAsync(Approval approval, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(approval);
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await InsertApprovalAsync(connection, null, approval, cancellationToken);
    }

    private static Task<int> InsertApprovalAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Approval approval, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction,
            $"INSERT INTO approvals ({ApprovalColumns}) VALUES (@id, @run, @agent, @agentName, @profile, @language, @sha, @code, @purpose, @reason, @created, @expires, @state, @decidedBy, @decidedAt, @note, @details, @requestSha)",
            cancellationToken,
            ("id", approval.Id), ("run", approval.RunId), ("agent", approval.AgentId), ("agentName", approval.AgentName),
            ("profile", approval.Profile), ("language", approval.Language), ("sha", approval.CodeSha256), ("code", approval.Code),
            ("purpose", approval.Purpose), ("reason", approval.Reason),
            ("created", SqliteValues.Time(approval.CreatedAt)), ("expires", SqliteValues.Time(approval.ExpiresAt)),
            ("state", SqliteValues.State(approval.State)), ("decidedBy", approval.DecidedBy),
            ("decidedAt", SqliteValues.Time(approval.DecidedAt)), ("note", approval.Note),
            ("details", SqliteGuardStore.Details(approval)), ("requestSha", approval.RequestSha256));

    public async Task<Approval?> FindApprovalAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        var rows = await ReadAsync($"SELECT {ApprovalColumns} FROM approvals WHERE id = @id", ReadApproval, cancellationToken, ("id", id));
        return rows.Count == 0 ? null : rows[0];
    }

    public Task<IReadOnlyList<Approval>> ListApprovalsAsync(ApprovalState? state, CancellationToken cancellationToken) =>
        state is { } only
            ? ReadAsync($"SELECT {ApprovalColumns} FROM approvals WHERE state = @state ORDER BY created_at DESC, ord DESC",
                ReadApproval, cancellationToken, ("state", SqliteValues.State(only)))
            : ReadAsync($"SELECT {ApprovalColumns} FROM approvals ORDER BY created_at DESC, ord DESC", ReadApproval, cancellationToken);

    public Task<Approval?> DecideApprovalAsync(string id, ApprovalState decision, string decidedBy, string? note, DateTimeOffset at, AuditEntry audit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(decidedBy);
        ArgumentNullException.ThrowIfNull(audit);
        if (decision == ApprovalState.Pending)
        {
            throw new ArgumentException("A decision moves an approval out of pending: approved, denied or expired.", nameof(decision));
        }

        return WriteAsync<Approval?>(async (connection, transaction) =>
        {
            // Only from pending: whoever decides first wins, and a decided approval is never changed.
            var decided = await ExecuteAsync(connection, transaction,
                "UPDATE approvals SET state = @state, decided_by = @by, decided_at = @at, note = @note WHERE id = @id AND state = 'pending'",
                cancellationToken,
                ("state", SqliteValues.State(decision)), ("by", decidedBy), ("at", SqliteValues.Time(at)), ("note", note), ("id", id));
            if (decided == 0)
            {
                return (false, null);
            }

            await AppendAsync(connection, transaction, audit, cancellationToken);
            await NotifyGuardChangedAsync(connection, transaction, "decided:" + id, cancellationToken);
            var rows = await ReadAsync(connection, transaction, $"SELECT {ApprovalColumns} FROM approvals WHERE id = @id", ReadApproval, cancellationToken, ("id", id));
            return (true, rows[0]);
        }, cancellationToken);
    }

    private static Approval ReadApproval(DbDataReader reader) => SqliteGuardStore.WithDetails(new Approval
    {
        Id = reader.GetString(0),
        RunId = reader.GetString(1),
        AgentId = reader.GetString(2),
        AgentName = reader.GetString(3),
        Profile = reader.GetString(4),
        Language = reader.GetString(5),
        CodeSha256 = reader.GetString(6),
        Code = reader.GetString(7),
        Purpose = NullableString(reader, 8),
        Reason = reader.GetString(9),
        CreatedAt = SqliteValues.ParseTime(reader.GetString(10)),
        ExpiresAt = SqliteValues.ParseTime(reader.GetString(11)),
        State = SqliteValues.ParseState(reader.GetString(12)),
        DecidedBy = NullableString(reader, 13),
        DecidedAt = NullableTime(reader, 14),
        Note = NullableString(reader, 15),
    }, NullableString(reader, 16), NullableString(reader, 17));
}
