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
        return CommitAsync(new RunTransition { Admit = run, Audit = receipt is null ? [] : [receipt] }, cancellationToken);
    }

    /// <remarks>One node serves a SQLite file: its ledger checked the caps under the agent's lock, so this only commits.</remarks>
    public async Task<string?> AdmitWithinCapsAsync(RunTransition transition, AdmissionCaps caps, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caps);
        await CommitAsync(transition, cancellationToken);
        return null;
    }

    public Task<bool> CompleteRunAsync(string runId, string status, string? reason, DateTimeOffset completedAt, string? view, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentException.ThrowIfNullOrEmpty(status);
        var end = new RunCompletion(runId, status, reason, completedAt, view, expiresAt);
        return WriteAsync(async (connection, transaction) => (true, await EndRunAsync(connection, transaction, end, cancellationToken) == 1), cancellationToken);
    }

    public Task<bool> CommitAsync(RunTransition transition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transition);
        return WriteAsync(async (connection, transaction) =>
        {
            if (transition.Admit is { } run)
            {
                await InsertRunAsync(connection, transaction, run, cancellationToken);
            }

            if (transition.Move is { } move)
            {
                await ExecuteAsync(connection, transaction, "UPDATE runs SET state = $state WHERE run_id = $run AND state <> 'completed'",
                    cancellationToken, ("$run", move.RunId), ("$state", move.State));
            }

            if (transition.Complete is { } end && !await CompleteRunAsync(connection, transaction, end, cancellationToken))
            {
                // Already completed (reconciliation, or a kill that came first): nothing of this end is written, charges included.
                return (false, false);
            }

            foreach (var charge in transition.Charges)
            {
                await AddUsageAsync(connection, transaction, charge, cancellationToken);
            }

            if (transition.Approval is { } approval)
            {
                await InsertApprovalAsync(connection, transaction, approval, cancellationToken);
            }

            foreach (var hold in transition.Holds)
            {
                await SetUnderApprovalAsync(connection, transaction, hold.AgentId, true, hold.Reason, cancellationToken);
            }

            if (transition.Withdraw is { } withdraw && await ExecuteAsync(connection, transaction,
                    "UPDATE approvals SET state = $state, decided_by = 'system', decided_at = $at, note = $note WHERE id = $id AND state = 'pending'",
                    cancellationToken, ("$state", SqliteValues.State(Approvals.ApprovalState.Expired)), ("$at", SqliteValues.Time(withdraw.At)),
                    ("$note", withdraw.Note), ("$id", withdraw.ApprovalId)) == 1)
            {
                // Only a still-pending approval is closed, and recorded: whoever decided first wins, as in DecideApprovalAsync.
                await AppendAsync(connection, transaction, withdraw.Audit, cancellationToken);
            }

            foreach (var entry in transition.Audit)
            {
                await AppendAsync(connection, transaction, entry, cancellationToken);
            }

            return (true, true);
        }, cancellationToken);
    }

    public Task ProbeWriteAsync(CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            // Created here rather than by a migration: the probe's one row is no part of the schema anything reads.
            await ExecuteAsync(connection, transaction,
                "CREATE TABLE IF NOT EXISTS write_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at TEXT NOT NULL)", cancellationToken);
            await ExecuteAsync(connection, transaction,
                "INSERT INTO write_probe (id, at) VALUES (1, $at) ON CONFLICT (id) DO UPDATE SET at = excluded.at", cancellationToken,
                ("$at", SqliteValues.Time(_time.GetUtcNow())));
            return (true, 0);
        }, cancellationToken);

    private static async Task<int> InsertRunAsync(SqliteConnection connection, SqliteTransaction transaction, StoredRun run, CancellationToken cancellationToken)
    {
        var rows = await InsertRunRowAsync(connection, transaction, run, cancellationToken);
        if (run.Inputs is { } inputs)
        {
            // Same transaction as the row: a run is never replayable without a row, nor kept without its inputs.
            await ExecuteAsync(connection, transaction, "INSERT INTO run_inputs (run_id, inputs) VALUES ($run, $inputs)", cancellationToken,
                ("$run", run.RunId), ("$inputs", inputs));
        }

        return rows;
    }

    public async Task<string?> FindRunInputsAsync(string runId, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync("SELECT inputs FROM run_inputs WHERE run_id = $run", r => r.GetString(0), cancellationToken, ("$run", runId));
        return rows.Count > 0 ? rows[0] : null;
    }

    private static Task<int> InsertRunRowAsync(SqliteConnection connection, SqliteTransaction transaction, StoredRun run, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction,
            $"INSERT INTO runs ({RunColumns}) VALUES ($run, $agent, $credential, $key, $sha, $plan, $state, $status, $reason, $created, $completed, $expires, $view)",
            cancellationToken,
            ("$run", run.RunId), ("$agent", run.AgentId), ("$credential", run.CredentialId), ("$key", run.IdempotencyKey),
            ("$sha", run.RequestSha256), ("$plan", run.Plan), ("$state", run.State), ("$status", run.Status), ("$reason", run.Reason),
            ("$created", SqliteValues.Time(run.CreatedAt)), ("$completed", SqliteValues.Time(run.CompletedAt)),
            ("$expires", SqliteValues.Time(run.ExpiresAt)), ("$view", run.View));

    /// <summary>False when the run's row is already completed; true when it was completed now, or has no row (a run refused before it had one).</summary>
    private static async Task<bool> CompleteRunAsync(SqliteConnection connection, SqliteTransaction transaction, RunCompletion end, CancellationToken cancellationToken)
    {
        if (await EndRunAsync(connection, transaction, end, cancellationToken) == 1)
        {
            return true;
        }

        var rows = await ReadAsync(connection, transaction, "SELECT 1 FROM runs WHERE run_id = $run", _ => 1, cancellationToken, ("$run", end.RunId));
        return rows.Count == 0;
    }

    /// <summary>
    /// The first final write wins, as in memory: reconciliation never overwrites a result that made it to disk. The output
    /// the run persisted as it streamed goes in the same transaction: its view is now the one copy.
    /// </summary>
    private static async Task<int> EndRunAsync(SqliteConnection connection, SqliteTransaction transaction, RunCompletion end, CancellationToken cancellationToken)
    {
        var rows = await ExecuteAsync(connection, transaction,
            "UPDATE runs SET state = 'completed', status = $status, reason = $reason, completed_at = $completed, view = $view, expires_at = COALESCE($expires, expires_at) WHERE run_id = $run AND state <> 'completed'",
            cancellationToken,
            ("$run", end.RunId), ("$status", end.Status), ("$reason", end.Reason), ("$completed", SqliteValues.Time(end.CompletedAt)), ("$view", end.View), ("$expires", SqliteValues.Time(end.ExpiresAt)));
        if (rows == 1)
        {
            await ExecuteAsync(connection, transaction, "DELETE FROM run_output WHERE run_id = $run", cancellationToken, ("$run", end.RunId));
            foreach (var artifact in end.Artifacts)
            {
                // OR IGNORE: the backends never return one path twice; should one, the first is what the result describes. A run
                // that ends after its agent was revoked keeps none (revocation deleted the others).
                await ExecuteAsync(connection, transaction,
                    "INSERT OR IGNORE INTO run_artifacts (run_id, path, media_type, sha256, bytes) SELECT $run, $path, $type, $sha, $bytes " +
                    "WHERE NOT EXISTS (SELECT 1 FROM runs JOIN agents ON agents.id = runs.agent_id WHERE runs.run_id = $run AND agents.revoked_at IS NOT NULL)",
                    cancellationToken, ("$run", end.RunId), ("$path", artifact.Path), ("$type", artifact.MediaType), ("$sha", artifact.Sha256),
                    ("$bytes", artifact.Bytes.ToArray()));
            }
        }

        return rows;
    }

    public Task AppendRunOutputAsync(IReadOnlyList<RunOutputChunk> chunks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        if (chunks.Count == 0)
        {
            return Task.CompletedTask;
        }

        return AppendAsync(chunks, cancellationToken);
    }

    private async Task AppendAsync(IReadOnlyList<RunOutputChunk> chunks, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);

        // Chunks guard against a crash of the service or the daemon, which WAL with synchronous=NORMAL survives (the commit
        // is in the WAL file, only not fsynced): no fsync per flush, so the write lock is held briefly and a run's own
        // commits wait less. A power loss may lose the last flushes, never a result (those commits stay FULL; the next
        // open of this pooled connection sets FULL again).
        await ExecuteAsync(connection, null, "PRAGMA synchronous = NORMAL", cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        foreach (var chunk in chunks)
        {
            // Only for an open row: a flush that lands after the run's end (which deleted the chunks) adds nothing back.
            await ExecuteAsync(connection, transaction,
                "INSERT INTO run_output (run_id, stream, bytes) SELECT $run, $stream, $bytes WHERE EXISTS (SELECT 1 FROM runs WHERE run_id = $run AND state <> 'completed')",
                cancellationToken, ("$run", chunk.RunId), ("$stream", chunk.IsStderr ? "stderr" : "stdout"), ("$bytes", chunk.Bytes.ToArray()));
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public Task<IReadOnlyList<RunOutputChunk>> ReadRunOutputAsync(string runId, CancellationToken cancellationToken) =>
        ReadAsync("SELECT stream, bytes, seq FROM run_output WHERE run_id = $run ORDER BY seq", r => ReadChunk(runId, r), cancellationToken, ("$run", runId));

    public Task<IReadOnlyList<RunOutputChunk>> ReadRunOutputAfterAsync(string runId, long afterSeq, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        return ReadAsync("SELECT stream, bytes, seq FROM run_output WHERE run_id = $run AND seq > $after ORDER BY seq LIMIT $max",
            r => ReadChunk(runId, r), cancellationToken, ("$run", runId), ("$after", afterSeq), ("$max", max));
    }

    private static RunOutputChunk ReadChunk(string runId, SqliteDataReader reader) =>
        new(runId, reader.GetString(0) == "stderr", (byte[])reader.GetValue(1)) { Seq = reader.GetInt64(2) };

    public async Task<StoredRun?> FindRunAsync(string runId, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync($"SELECT {RunColumns} FROM runs WHERE run_id = $run", ReadRun, cancellationToken, ("$run", runId));
        return rows.Count > 0 ? rows[0] : null;
    }

    public async Task<StoredArtifact?> FindRunArtifactAsync(string runId, string path, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync("SELECT path, media_type, sha256, bytes FROM run_artifacts WHERE run_id = $run AND path = $path",
            r => new StoredArtifact(r.GetString(0), r.GetString(1), r.GetString(2), (byte[])r.GetValue(3)), cancellationToken, ("$run", runId), ("$path", path));
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
