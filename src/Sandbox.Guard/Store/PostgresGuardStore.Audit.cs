using System.Text;
using System.Data.Common;
using Npgsql;
using Sandbox.Guard.Audit;

namespace Sandbox.Guard.Store;

/// <summary>The audit chain.</summary>
public sealed partial class PostgresGuardStore
{
    private const string AuditColumns = "seq, time, kind, agent_id, run_id, status, data, prev_hash, hash";

    public Task<AuditRecord> AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return WriteAsync(async (connection, transaction) => (true, await AppendAsync(connection, transaction, entry, cancellationToken)), cancellationToken);
    }

    public async Task<IReadOnlyList<AuditRecord>> QueryAuditAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(query.Limit);

        // Only fixed column names go into the text; every value is a parameter.
        var where = new StringBuilder("seq > @after");
        // One page at most, however many were asked for: the caller pages on with AfterSequence.
        var parameters = new List<(string, object?)> { ("after", query.AfterSequence), ("limit", Math.Min(query.Limit, AuditQuery.MaxPageSize)) };
        void Filter(string condition, string parameter, object? value)
        {
            if (value is not null)
            {
                where.Append(" AND ").Append(condition);
                parameters.Add((parameter, value));
            }
        }

        Filter("agent_id = @agent", "agent", query.AgentId);
        Filter("run_id = @run", "run", query.RunId);
        Filter("kind = @kind", "kind", query.Kind);
        Filter("status = @status", "status", query.Status);
        Filter("time >= @from", "from", SqliteValues.Time(query.From));
        Filter("time < @to", "to", SqliteValues.Time(query.To));

        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, null, $"SELECT {AuditColumns} FROM audit WHERE {where} ORDER BY seq LIMIT @limit", [.. parameters]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var records = new List<AuditRecord>();
        long chars = 0;
        while (chars < query.MaxDataChars && await reader.ReadAsync(cancellationToken))
        {
            var record = ReadAuditRecord(reader);
            records.Add(record);
            chars += record.Data.Length;
        }

        return records;
    }

    /// <remarks>
    /// Streams the rows into <see cref="AuditChain.Verify"/> one at a time, so memory does not grow with
    /// the log. The whole walk is one SELECT, which reads one MVCC snapshot: appends made meanwhile by
    /// other nodes are neither seen half-way nor blocked.
    /// </remarks>
    public Task<AuditVerification> VerifyAuditAsync(CancellationToken cancellationToken) => VerifyAuditAsync([], cancellationToken);

    public async Task<AuditAnchor> AuditHeadAsync(CancellationToken cancellationToken)
    {
        var heads = await ReadAsync("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", r => new AuditAnchor(r.GetInt64(0), r.GetString(1)), cancellationToken);
        return heads.Count > 0 ? heads[0] : AuditAnchor.Genesis;
    }

    public async Task<AuditVerification> VerifyAuditAsync(IReadOnlyCollection<AuditAnchor> anchors, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, null, $"SELECT {AuditColumns} FROM audit ORDER BY seq");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);

        // A row that cannot even be read back (a time not in the fixed format) is a broken record too, reported like the
        // others rather than thrown. The database guarantees the text is valid in its encoding, so data needs no check.
        AuditVerification? unreadable = null;
        long read = 0;
        var verification = AuditChain.Verify(Records(), anchors);
        return unreadable ?? verification;

        IEnumerable<AuditRecord> Records()
        {
            // Npgsql buffers one row at a time: the sync Read keeps memory flat (Verify is a synchronous walk).
            while (reader.Read())
            {
                cancellationToken.ThrowIfCancellationRequested();
                AuditRecord record;
                var sequence = reader.GetInt64(0);
                try
                {
                    record = ReadAuditRecord(reader);
                }
                catch (FormatException)
                {
                    unreadable = new AuditVerification(false, read, sequence,
                        $"record {sequence} was changed after it was written: its time '{reader.GetString(1)}' is not in the store's format", null);
                    yield break;
                }

                read++;
                yield return record;
            }
        }
    }

    /// <remarks>
    /// A run is open when its latest decision is <c>allowed</c> or <c>pending</c> and nothing wrote its
    /// <c>result</c>. The latest decision, not any: a run that waited (pending) and was then refused
    /// (a later <c>rejected</c> decision) never started, so it is not open.
    /// </remarks>
    public Task<IReadOnlyList<OpenRun>> OpenRunsAsync(CancellationToken cancellationToken) =>
        ReadAsync(
            """
            WITH last_decision AS (
                SELECT run_id, MAX(seq) AS seq FROM audit
                WHERE kind = @decision AND run_id IS NOT NULL
                GROUP BY run_id),
            open_run AS (
                SELECT d.run_id, d.agent_id FROM last_decision l JOIN audit d ON d.seq = l.seq
                WHERE d.status IN ('allowed', 'pending')
                  AND NOT EXISTS (SELECT 1 FROM audit r WHERE r.run_id = d.run_id AND r.kind = @result)),
            last_record AS (
                SELECT a.run_id, MAX(a.seq) AS seq FROM audit a JOIN open_run o ON o.run_id = a.run_id
                GROUP BY a.run_id)
            SELECT o.run_id, o.agent_id, a.kind, a.time
            FROM open_run o JOIN last_record l ON l.run_id = o.run_id JOIN audit a ON a.seq = l.seq
            ORDER BY a.seq
            """,
            reader => new OpenRun(reader.GetString(0), NullableString(reader, 1), reader.GetString(2), SqliteValues.ParseTime(reader.GetString(3))),
            cancellationToken, ("decision", AuditKinds.Decision), ("result", AuditKinds.Result));

    /// <summary>
    /// Appends at the head of the chain inside the caller's transaction, which holds the write lock
    /// (see <see cref="WriteAsync{T}"/>): no other connection, on this node or another, can read the
    /// same head and claim the same sequence number.
    /// </summary>
    private async Task<AuditRecord> AppendAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, AuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(entry.Kind);

        var sequence = 1L;
        var previousHash = AuditChain.Genesis;
        await using (var head = Command(connection, transaction, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"))
        await using (var reader = await head.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                sequence = checked(reader.GetInt64(0) + 1);
                previousHash = reader.GetString(1);
            }
        }

        var time = SqliteValues.Time(_time.GetUtcNow());
        var data = entry.Data.ToJsonString();
        var hash = AuditChain.ComputeHash(sequence, time, entry.Kind, entry.AgentId, entry.RunId, entry.Status, data, previousHash);
        await ExecuteAsync(connection, transaction,
            $"INSERT INTO audit ({AuditColumns}) VALUES (@seq, @time, @kind, @agent, @run, @status, @data, @prev, @hash)",
            cancellationToken,
            ("seq", sequence), ("time", time), ("kind", entry.Kind), ("agent", entry.AgentId), ("run", entry.RunId),
            ("status", entry.Status), ("data", data), ("prev", previousHash), ("hash", hash));

        return new AuditRecord
        {
            Sequence = sequence,
            Time = SqliteValues.ParseTime(time),
            Kind = entry.Kind,
            AgentId = entry.AgentId,
            RunId = entry.RunId,
            Status = entry.Status,
            Data = data,
            PreviousHash = previousHash,
            Hash = hash,
        };
    }

    private static AuditRecord ReadAuditRecord(DbDataReader reader) => new()
    {
        Sequence = reader.GetInt64(0),
        Time = SqliteValues.ParseTime(reader.GetString(1)),
        Kind = reader.GetString(2),
        AgentId = NullableString(reader, 3),
        RunId = NullableString(reader, 4),
        Status = NullableString(reader, 5),
        Data = reader.GetString(6),
        PreviousHash = reader.GetString(7),
        Hash = reader.GetString(8),
    };
}
