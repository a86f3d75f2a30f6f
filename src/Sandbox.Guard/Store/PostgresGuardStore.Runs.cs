using System.Data.Common;
using Npgsql;
using Sandbox.Guard.Audit;

namespace Sandbox.Guard.Store;

/// <summary>Runs kept for the retention period, and the idempotency keys bound to them.</summary>
public sealed partial class PostgresGuardStore
{
    private const string RunColumns = "run_id, agent_id, credential_id, idempotency_key, request_sha256, plan, state, status, reason, created_at, completed_at, expires_at, view, owner_node, fence, needs";

    /// <summary>
    /// The fence every write of a run's life after its admission carries: a row with an owner is written only by that owner
    /// under its current lease (see <see cref="INodeLeases"/>). A row with no owner (a CLI's, or SQLite-era) anyone may write.
    /// </summary>
    private const string OwnedHere = "(owner_node IS NULL OR (owner_node = @owner::text AND fence = @fence::bigint))";

    public Task AdmitRunAsync(StoredRun run, AuditEntry? receipt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        return CommitAsync(new RunTransition { Admit = run, Audit = receipt is null ? [] : [receipt] }, cancellationToken);
    }

    public Task<bool> CompleteRunAsync(string runId, string status, string? reason, DateTimeOffset completedAt, string? view, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentException.ThrowIfNullOrEmpty(status);
        var end = new RunCompletion(runId, status, reason, completedAt, view, expiresAt);
        return WriteAsync(async (connection, transaction) => (true, await EndRunAsync(connection, transaction, end, Lease, cancellationToken) == 1), cancellationToken);
    }

    public Task<bool> CommitAsync(RunTransition transition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transition);
        return WriteAsync(async (connection, transaction) =>
        {
            var committed = await ApplyAsync(connection, transaction, transition, cancellationToken);
            return (committed, committed);
        }, cancellationToken);
    }

    /// <remarks>
    /// The check and the admission are one transaction under the write lock, which every node's writes take: two nodes
    /// admitting runs of one agent at once are serialised, and the second counts the first's row.
    /// </remarks>
    public Task<string?> AdmitWithinCapsAsync(RunTransition transition, AdmissionCaps caps, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transition);
        ArgumentNullException.ThrowIfNull(caps);
        if (transition.Admit is not { } run)
        {
            throw new ArgumentException("Only an admission (a transition with Admit) is checked against the caps.", nameof(transition));
        }

        return WriteAsync<string?>(async (connection, transaction) =>
        {
            if (await RefusingCapAsync(connection, transaction, run, caps, cancellationToken) is { } cap)
            {
                return (false, cap);
            }

            if (!await ApplyAsync(connection, transaction, transition, cancellationToken))
            {
                return (false, null);
            }

            if (HoldsSlot(run))
            {
                // What the run may still charge, held against the agent's budget until its row completes.
                await ExecuteAsync(connection, transaction, "UPDATE runs SET cpu_reserved_ms = @reserve WHERE run_id = @run", cancellationToken,
                    ("reserve", caps.CpuReserveMs), ("run", run.RunId));
            }

            return (true, null);
        }, cancellationToken);
    }

    /// <summary>A run queued or running holds a slot and its CPU; one waiting for a human holds neither (it counts against the rate).</summary>
    private static bool HoldsSlot(StoredRun run) => run.State is "queued" or "running";

    /// <summary>The first cap (its <c>CapNames</c> name) the agent's runs on every node leave no room in for <paramref name="run"/>, or null.</summary>
    private static async Task<string?> RefusingCapAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, StoredRun run, AdmissionCaps caps, CancellationToken cancellationToken)
    {
        var counts = (await ReadAsync(connection, transaction,
            """
            SELECT COUNT(*) FILTER (WHERE state IN ('queued', 'running')),
                   COUNT(*) FILTER (WHERE created_at > @since),
                   COALESCE(SUM(cpu_reserved_ms) FILTER (WHERE state <> 'completed'), 0)::bigint,
                   (SELECT COALESCE(MAX(cpu_ms), 0) FROM usage WHERE subject = @agent AND period = @day)
            FROM runs WHERE agent_id = @agent
            """,
            r => (Open: r.GetInt64(0), Recent: r.GetInt64(1), ReservedMs: r.GetInt64(2), UsedMs: r.GetInt64(3)), cancellationToken,
            ("agent", caps.AgentId), ("since", SqliteValues.Time(caps.Now - AdmissionCaps.RateWindow)), ("day", caps.Day)))[0];

        if (HoldsSlot(run) && counts.Open >= caps.MaxConcurrentRuns)
        {
            return Policy.CapNames.Concurrency;
        }

        if (counts.Recent >= caps.RatePerMinute)
        {
            return Policy.CapNames.Rate;
        }

        if (HoldsSlot(run) && counts.UsedMs + counts.ReservedMs + caps.CpuReserveMs > caps.DailyCpuMs)
        {
            return Policy.CapNames.DailyCpuSeconds;
        }

        return null;
    }

    /// <summary>Writes the transition in the caller's transaction; false when it completes a run already completed (roll back).</summary>
    private async Task<bool> ApplyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, RunTransition transition, CancellationToken cancellationToken)
    {
        // Read once: the whole transition is judged under one lease.
        var lease = Lease;
        if (transition.Admit is { } run)
        {
            // An offered run (it has needs) has no owner until a node claims it; any other is its admitting node's.
            var offered = run.Needs is not null;
            await InsertRunAsync(connection, transaction, run with { OwnerNode = offered ? null : lease?.NodeId, Fence = offered ? null : lease?.Fence }, cancellationToken);
            if (offered)
            {
                // Delivered only when the admission commits: an idle node never wakes for a row it cannot see yet.
                await NotifyQueuedAsync(connection, transaction, cancellationToken);
            }
        }

        if (transition.Move is { } move && await ExecuteAsync(connection, transaction,
                $"UPDATE runs SET state = @state WHERE run_id = @run AND state <> 'completed' AND {OwnedHere}",
                cancellationToken, ("run", move.RunId), ("state", move.State), ("owner", lease?.NodeId), ("fence", lease?.Fence)) == 0
            && await IsOpenAsync(connection, transaction, move.RunId, cancellationToken))
        {
            // Open, but not ours under this fence: another node took it over, so this node must not start (or queue) it.
            return false;
        }

        if (transition.Complete is { } end && !await CompleteRunAsync(connection, transaction, end, lease, cancellationToken))
        {
            // Already completed (reconciliation, or a kill that came first): nothing of this end is written, charges included.
            return false;
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
                "UPDATE approvals SET state = @state, decided_by = 'system', decided_at = @at, note = @note WHERE id = @id AND state = 'pending'",
                cancellationToken, ("state", SqliteValues.State(Approvals.ApprovalState.Expired)), ("at", SqliteValues.Time(withdraw.At)),
                ("note", withdraw.Note), ("id", withdraw.ApprovalId)) == 1)
        {
            // Only a still-pending approval is closed, and recorded: whoever decided first wins, as in DecideApprovalAsync.
            await AppendAsync(connection, transaction, withdraw.Audit, cancellationToken);
        }

        foreach (var entry in transition.Audit)
        {
            await AppendAsync(connection, transaction, entry, cancellationToken);
        }

        return true;
    }

    public Task ProbeWriteAsync(CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await ExecuteAsync(connection, transaction,
                "INSERT INTO write_probe (id, at) VALUES (1, @at) ON CONFLICT (id) DO UPDATE SET at = excluded.at", cancellationToken,
                ("at", SqliteValues.Time(_time.GetUtcNow())));
            return (true, 0);
        }, cancellationToken);

    private static async Task<int> InsertRunAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, StoredRun run, CancellationToken cancellationToken)
    {
        var rows = await InsertRunRowAsync(connection, transaction, run, cancellationToken);
        if (run.Inputs is { } inputs)
        {
            // Same transaction as the row: a run is never replayable without a row, nor kept without its inputs.
            await ExecuteAsync(connection, transaction, "INSERT INTO run_inputs (run_id, inputs) VALUES (@run, @inputs)", cancellationToken,
                ("run", run.RunId), ("inputs", inputs));
        }

        return rows;
    }

    public async Task<string?> FindRunInputsAsync(string runId, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync("SELECT inputs FROM run_inputs WHERE run_id = @run", r => r.GetString(0), cancellationToken, ("run", runId));
        return rows.Count > 0 ? rows[0] : null;
    }

    private static Task<int> InsertRunRowAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, StoredRun run, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction,
            $"INSERT INTO runs ({RunColumns}) VALUES (@run, @agent, @credential, @key, @sha, @plan, @state, @status, @reason, @created, @completed, @expires, @view, @owner, @fence::bigint, @needs::jsonb)",
            cancellationToken,
            ("run", run.RunId), ("agent", run.AgentId), ("credential", run.CredentialId), ("key", run.IdempotencyKey),
            ("sha", run.RequestSha256), ("plan", run.Plan), ("state", run.State), ("status", run.Status), ("reason", run.Reason),
            ("created", SqliteValues.Time(run.CreatedAt)), ("completed", SqliteValues.Time(run.CompletedAt)),
            ("expires", SqliteValues.Time(run.ExpiresAt)), ("view", run.View), ("owner", run.OwnerNode), ("fence", run.Fence),
            ("needs", run.Needs));

    /// <summary>
    /// False when the run's row is already completed, or is not this node's under <paramref name="lease"/> (fenced out); true
    /// when it was completed now, or has no row (a run refused before it had one).
    /// </summary>
    private static async Task<bool> CompleteRunAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, RunCompletion end, NodeLease? lease, CancellationToken cancellationToken)
    {
        if (await EndRunAsync(connection, transaction, end, lease, cancellationToken) == 1)
        {
            return true;
        }

        var rows = await ReadAsync(connection, transaction, "SELECT 1 FROM runs WHERE run_id = @run", _ => 1, cancellationToken, ("run", end.RunId));
        return rows.Count == 0;
    }

    private static async Task<bool> IsOpenAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string runId, CancellationToken cancellationToken) =>
        (await ReadAsync(connection, transaction, "SELECT 1 FROM runs WHERE run_id = @run AND state <> 'completed'", _ => 1, cancellationToken, ("run", runId))).Count > 0;

    /// <summary>
    /// The first final write wins, as in memory: reconciliation never overwrites a result that made it to disk. The output
    /// the run persisted as it streamed goes in the same transaction: its view is now the one copy.
    /// </summary>
    /// <remarks>
    /// Fenced: a node taken over (its lease expired: it was paused, or cut off from the database) that wakes with a result
    /// finds its run closed, or owned by the survivor under another fence, and writes nothing.
    /// </remarks>
    private static async Task<int> EndRunAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, RunCompletion end, NodeLease? lease, CancellationToken cancellationToken)
    {
        var rows = await ExecuteAsync(connection, transaction,
            $"UPDATE runs SET state = 'completed', status = @status, reason = @reason, completed_at = @completed, view = @view, expires_at = COALESCE(@expires, expires_at) WHERE run_id = @run AND state <> 'completed' AND {OwnedHere}",
            cancellationToken,
            ("run", end.RunId), ("status", end.Status), ("reason", end.Reason), ("completed", SqliteValues.Time(end.CompletedAt)), ("view", end.View), ("expires", SqliteValues.Time(end.ExpiresAt)),
            ("owner", lease?.NodeId), ("fence", lease?.Fence));
        if (rows == 1)
        {
            await ExecuteAsync(connection, transaction, "DELETE FROM run_output WHERE run_id = @run", cancellationToken, ("run", end.RunId));
            foreach (var artifact in end.Artifacts)
            {
                // As the SQLite store: the first of one path wins, and a run that ends after its agent was revoked keeps none.
                await ExecuteAsync(connection, transaction,
                    "INSERT INTO run_artifacts (run_id, path, media_type, sha256, bytes) SELECT @run, @path, @type, @sha, @bytes " +
                    "WHERE NOT EXISTS (SELECT 1 FROM runs JOIN agents ON agents.id = runs.agent_id WHERE runs.run_id = @run AND agents.revoked_at IS NOT NULL) " +
                    "ON CONFLICT DO NOTHING",
                    cancellationToken, ("run", end.RunId), ("path", artifact.Path), ("type", artifact.MediaType), ("sha", artifact.Sha256),
                    ("bytes", artifact.Bytes.ToArray()));
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

    /// <remarks>
    /// Under the write lock like every write: a flush that checked the run was open cannot then land after its end (which
    /// deleted the chunks) committed on another connection. One small transaction per flush, whatever the number of runs.
    /// </remarks>
    private Task<int> AppendAsync(IReadOnlyList<RunOutputChunk> chunks, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var lease = Lease;
            foreach (var chunk in chunks)
            {
                // Only for an open row this node owns: a flush that lands after the run's end, or after a takeover, adds nothing.
                await ExecuteAsync(connection, transaction,
                    $"INSERT INTO run_output (run_id, stream, bytes) SELECT @run, @stream, @bytes WHERE EXISTS (SELECT 1 FROM runs WHERE run_id = @run AND state <> 'completed' AND {OwnedHere})",
                    cancellationToken, ("run", chunk.RunId), ("stream", chunk.IsStderr ? "stderr" : "stdout"), ("bytes", chunk.Bytes.ToArray()),
                    ("owner", lease?.NodeId), ("fence", lease?.Fence));
            }

            return (true, 0);
        }, cancellationToken);

    public Task<IReadOnlyList<RunOutputChunk>> ReadRunOutputAsync(string runId, CancellationToken cancellationToken) =>
        ReadAsync("SELECT stream, bytes, seq FROM run_output WHERE run_id = @run ORDER BY seq", r => ReadChunk(runId, r), cancellationToken, ("run", runId));

    public Task<IReadOnlyList<RunOutputChunk>> ReadRunOutputAfterAsync(string runId, long afterSeq, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        return ReadAsync("SELECT stream, bytes, seq FROM run_output WHERE run_id = @run AND seq > @after ORDER BY seq LIMIT @max",
            r => ReadChunk(runId, r), cancellationToken, ("run", runId), ("after", afterSeq), ("max", max));
    }

    private static RunOutputChunk ReadChunk(string runId, DbDataReader reader) =>
        new(runId, reader.GetString(0) == "stderr", (byte[])reader.GetValue(1)) { Seq = reader.GetInt64(2) };

    public async Task<StoredArtifact?> FindRunArtifactAsync(string runId, string path, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync("SELECT path, media_type, sha256, bytes FROM run_artifacts WHERE run_id = @run AND path = @path",
            r => new StoredArtifact(r.GetString(0), r.GetString(1), r.GetString(2), (byte[])r.GetValue(3)), cancellationToken, ("run", runId), ("path", path));
        return rows.Count > 0 ? rows[0] : null;
    }

    public async Task<StoredRun?> FindRunAsync(string runId, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync($"SELECT {RunColumns} FROM runs WHERE run_id = @run", ReadRun, cancellationToken, ("run", runId));
        return rows.Count > 0 ? rows[0] : null;
    }

    public async Task<StoredRun?> FindRunByIdempotencyKeyAsync(string idempotencyKey, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync($"SELECT {RunColumns} FROM runs WHERE idempotency_key = @key", ReadRun, cancellationToken, ("key", idempotencyKey));
        return rows.Count > 0 ? rows[0] : null;
    }

    public Task<int> DeleteExpiredRunsAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);

        // Bounded per call so one pass after a long outage cannot hold the write lock (and the CLI) for long.
        return WriteAsync(async (connection, transaction) => (true, await ExecuteAsync(connection, transaction,
            "DELETE FROM runs WHERE run_id IN (SELECT run_id FROM runs WHERE expires_at <= @now ORDER BY expires_at LIMIT @max)",
            cancellationToken,
            ("now", SqliteValues.Time(now)), ("max", max))), cancellationToken);
    }

    private static StoredRun ReadRun(DbDataReader reader) => new()
    {
        RunId = reader.GetString(0),
        AgentId = reader.GetString(1),
        CredentialId = reader.GetString(2),
        IdempotencyKey = NullableString(reader, 3),
        RequestSha256 = NullableString(reader, 4),
        Plan = NullableString(reader, 5),
        State = reader.GetString(6),
        Status = NullableString(reader, 7),
        Reason = NullableString(reader, 8),
        CreatedAt = SqliteValues.ParseTime(reader.GetString(9)),
        CompletedAt = NullableTime(reader, 10),
        ExpiresAt = SqliteValues.ParseTime(reader.GetString(11)),
        View = NullableString(reader, 12),
        OwnerNode = NullableString(reader, 13),
        Fence = reader.IsDBNull(14) ? null : reader.GetInt64(14),
        Needs = NullableString(reader, 15),
    };
}
