using Microsoft.Data.Sqlite;
using Sandbox.Guard.Audit;

namespace Sandbox.Guard.Store;

/// <summary>Runs kept for the retention period, and the idempotency keys bound to them.</summary>
public sealed partial class SqliteGuardStore
{
    private const string RunColumns = "run_id, agent_id, credential_id, idempotency_key, request_sha256, plan, state, status, reason, created_at, completed_at, expires_at, view";

    public Task AdmitRunAsync(StoredRun run, AuditEntry? receipt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        return WriteAsync(async (connection, transaction) =>
        {
            await ExecuteAsync(connection, transaction,
                $"INSERT INTO runs ({RunColumns}) VALUES ($run, $agent, $credential, $key, $sha, $plan, $state, $status, $reason, $created, $completed, $expires, $view)",
                cancellationToken,
                ("$run", run.RunId), ("$agent", run.AgentId), ("$credential", run.CredentialId), ("$key", run.IdempotencyKey),
                ("$sha", run.RequestSha256), ("$plan", run.Plan), ("$state", run.State), ("$status", run.Status), ("$reason", run.Reason),
                ("$created", SqliteValues.Time(run.CreatedAt)), ("$completed", SqliteValues.Time(run.CompletedAt)),
                ("$expires", SqliteValues.Time(run.ExpiresAt)), ("$view", run.View));
            if (receipt is not null)
            {
                await AppendAsync(connection, transaction, receipt, cancellationToken);
            }

            return (true, 0);
        }, cancellationToken);
    }

    public Task<bool> CompleteRunAsync(string runId, string status, string? reason, DateTimeOffset completedAt, string? view, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentException.ThrowIfNullOrEmpty(status);

        // The first final write wins, as in memory: reconciliation never overwrites a result that made it to disk.
        return WriteAsync(async (connection, transaction) => (true, await ExecuteAsync(connection, transaction,
            "UPDATE runs SET state = 'completed', status = $status, reason = $reason, completed_at = $completed, view = $view, expires_at = COALESCE($expires, expires_at) WHERE run_id = $run AND state <> 'completed'",
            cancellationToken,
            ("$run", runId), ("$status", status), ("$reason", reason), ("$completed", SqliteValues.Time(completedAt)), ("$view", view), ("$expires", SqliteValues.Time(expiresAt))) == 1), cancellationToken);
    }

    public async Task<StoredRun?> FindRunAsync(string runId, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync($"SELECT {RunColumns} FROM runs WHERE run_id = $run", ReadRun, cancellationToken, ("$run", runId));
        return rows.Count > 0 ? rows[0] : null;
    }

    public async Task<StoredRun?> FindRunByIdempotencyKeyAsync(string idempotencyKey, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync($"SELECT {RunColumns} FROM runs WHERE idempotency_key = $key", ReadRun, cancellationToken, ("$key", idempotencyKey));
        return rows.Count > 0 ? rows[0] : null;
    }

    public Task<int> DeleteExpiredRunsAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);

        // Bounded per call so one pass after a long outage cannot hold the write lock (and the CLI) for long.
        return WriteAsync(async (connection, transaction) => (true, await ExecuteAsync(connection, transaction,
            "DELETE FROM runs WHERE run_id IN (SELECT run_id FROM runs WHERE expires_at <= $now ORDER BY expires_at LIMIT $max)",
            cancellationToken,
            ("$now", SqliteValues.Time(now)), ("$max", max))), cancellationToken);
    }

    private static StoredRun ReadRun(SqliteDataReader reader) => new()
    {
        RunId = reader.GetString(0),
        AgentId = reader.GetString(1),
        CredentialId = reader.GetString(2),
        IdempotencyKey = SqliteValues.NullableString(reader, 3),
        RequestSha256 = SqliteValues.NullableString(reader, 4),
        Plan = SqliteValues.NullableString(reader, 5),
        State = reader.GetString(6),
        Status = SqliteValues.NullableString(reader, 7),
        Reason = SqliteValues.NullableString(reader, 8),
        CreatedAt = SqliteValues.ParseTime(reader.GetString(9)),
        CompletedAt = SqliteValues.NullableTime(reader, 10),
        ExpiresAt = SqliteValues.ParseTime(reader.GetString(11)),
        View = SqliteValues.NullableString(reader, 12),
    };
}
