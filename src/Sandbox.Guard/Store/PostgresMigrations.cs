using System.Globalization;
using Npgsql;

namespace Sandbox.Guard.Store;

/// <summary>
/// The PostgreSQL store's schema, as an ordered list of scripts, the same discipline as <see cref="SqliteMigrations"/>:
/// script <c>n</c> (1-based) takes the database from version <c>n - 1</c> to <c>n</c>, <c>schema_migrations</c> records
/// each version applied, and a shipped script is never edited. Its own numbering: the two stores' versions are unrelated.
/// </summary>
internal static class PostgresMigrations
{
    /// <summary>The advisory lock the migrations run under ('sbxm'), so nodes starting together migrate once.</summary>
    private const long MigrationLockKey = 0x7362786d;

    private static readonly string[] s_scripts =
    [
        // 1: the SQLite schema at its version 6, in PostgreSQL's types. Times stay text in AuditChain.FormatTime's fixed UTC
        // format (the audit hash covers that text, and it sorts as it compares); COLLATE "C" makes the comparison bytewise
        // whatever locale the cluster was created with. Identity columns keep insertion order where SQLite used rowid.
        """
        CREATE TABLE agents (
            id text NOT NULL PRIMARY KEY,
            name text NOT NULL UNIQUE,
            profiles text NOT NULL,
            rate_per_minute bigint NOT NULL,
            max_concurrent_runs bigint NOT NULL,
            daily_cpu_seconds double precision NOT NULL,
            daily_runs bigint NOT NULL,
            created_at text COLLATE "C" NOT NULL,
            expires_at text COLLATE "C" NOT NULL,
            revoked_at text COLLATE "C",
            revoked_reason text,
            under_approval boolean NOT NULL DEFAULT false,
            under_approval_reason text
        );

        CREATE TABLE credentials (
            id text NOT NULL PRIMARY KEY,
            agent_id text NOT NULL REFERENCES agents (id),
            kind text NOT NULL CHECK (kind IN ('agent_key', 'task_token')),
            secret_sha256 text NOT NULL,
            created_at text COLLATE "C" NOT NULL,
            expires_at text COLLATE "C" NOT NULL,
            revoked_at text COLLATE "C",
            profiles text,
            max_runs bigint,
            cpu_seconds double precision,
            purpose text,
            parent_id text,
            ord bigint GENERATED ALWAYS AS IDENTITY
        );
        CREATE INDEX credentials_agent ON credentials (agent_id, created_at);

        CREATE TABLE usage (
            subject text NOT NULL,
            period text NOT NULL,
            runs bigint NOT NULL,
            cpu_ms bigint NOT NULL,
            PRIMARY KEY (subject, period)
        );

        CREATE TABLE approvals (
            id text NOT NULL PRIMARY KEY,
            run_id text NOT NULL,
            agent_id text NOT NULL REFERENCES agents (id),
            agent_name text NOT NULL,
            profile text NOT NULL,
            language text NOT NULL,
            code_sha256 text NOT NULL,
            code text NOT NULL,
            purpose text,
            reason text NOT NULL,
            created_at text COLLATE "C" NOT NULL,
            expires_at text COLLATE "C" NOT NULL,
            state text NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'expired')),
            decided_by text,
            decided_at text COLLATE "C",
            note text,
            details text,
            request_sha256 text,
            ord bigint GENERATED ALWAYS AS IDENTITY
        );
        CREATE INDEX approvals_state ON approvals (state, created_at);

        CREATE TABLE audit (
            seq bigint NOT NULL PRIMARY KEY,
            time text COLLATE "C" NOT NULL,
            kind text NOT NULL,
            agent_id text,
            run_id text,
            status text,
            data text NOT NULL,
            prev_hash text NOT NULL,
            hash text NOT NULL
        );
        CREATE INDEX audit_agent ON audit (agent_id);
        CREATE INDEX audit_run ON audit (run_id);
        CREATE INDEX audit_kind ON audit (kind);
        CREATE INDEX audit_time ON audit (time);

        -- The audit is append-only. The chain is what proves it (an owner of the database can drop these triggers);
        -- the triggers stop a bug or a careless hand from breaking it by accident.
        CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit records are append-only'; END $$;
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
        CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

        CREATE TABLE runs (
            run_id text NOT NULL PRIMARY KEY,
            agent_id text NOT NULL,
            credential_id text NOT NULL,
            idempotency_key text UNIQUE,
            request_sha256 text,
            plan text,
            state text NOT NULL CHECK (state IN ('pending_approval', 'queued', 'running', 'completed')),
            status text,
            reason text,
            created_at text COLLATE "C" NOT NULL,
            completed_at text COLLATE "C",
            expires_at text COLLATE "C" NOT NULL,
            view text,
            -- What a queued or running run may still charge to its agent's daily CPU budget, on whichever node it runs;
            -- released by its completion (a completed row's reservation is never counted).
            cpu_reserved_ms bigint NOT NULL DEFAULT 0
        );
        CREATE INDEX runs_expires ON runs (expires_at);
        -- The caps' counts at admission: an agent's runs, open or admitted in the last minute.
        CREATE INDEX runs_agent_created ON runs (agent_id, created_at);

        -- A run's inputs and its streamed output go exactly when its row goes (retention, or any other delete).
        CREATE TABLE run_inputs (
            run_id text NOT NULL PRIMARY KEY REFERENCES runs (run_id) ON DELETE CASCADE,
            inputs text NOT NULL
        );

        CREATE TABLE run_output (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            run_id text NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            stream text NOT NULL CHECK (stream IN ('stdout', 'stderr')),
            bytes bytea NOT NULL
        );
        CREATE INDEX run_output_run ON run_output (run_id, seq);

        -- The readiness probe's one row: a tiny write that fails when the database can no longer write.
        CREATE TABLE write_probe (
            id integer PRIMARY KEY CHECK (id = 1),
            at text NOT NULL
        );
        """,

        // 2: the files a run returned from /tmp/outputs (issue 14), written with its end and downloadable for as long as its row
        // is kept; they go when the row goes, so no artifact outlives its run.
        """
        CREATE TABLE run_artifacts (
            run_id text NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            path text COLLATE "C" NOT NULL,
            media_type text NOT NULL,
            sha256 text NOT NULL,
            bytes bytea NOT NULL,
            PRIMARY KEY (run_id, path)
        );
        """,

        // 3: the agent's cap on the memory of its open sessions (issue 14), beside its other budgets; agents made before it
        // get the default an operator gets when creating one without naming it.
        """
        ALTER TABLE agents ADD COLUMN max_session_memory_mb bigint NOT NULL DEFAULT 1024;
        """,

        // 4: node leases with a fencing token (issue 15, point 5; see INodeLeases). A lease's times are the database's clock,
        // so nodes' clocks never decide who is dead. A run's row names the node that owns it and the fence it took it under;
        // a row with no owner (a CLI's, or one written before this version) is nobody's to take over.
        """
        CREATE SEQUENCE node_fence;

        CREATE TABLE nodes (
            node_id text NOT NULL PRIMARY KEY,
            fence bigint NOT NULL,
            started_at timestamptz NOT NULL,
            lease_until timestamptz NOT NULL,
            backends jsonb NOT NULL,
            images jsonb NOT NULL
        );

        ALTER TABLE runs ADD COLUMN owner_node text, ADD COLUMN fence bigint;
        -- A takeover finds a dead node's open rows, and a restarted node its own.
        CREATE INDEX runs_owner_open ON runs (owner_node) WHERE state <> 'completed';
        """,

        // 5: a DELETE that reaches a node other than the run's owner leaves the reason here; the owner acts on it (see
        // INodeLeases.RequestCancelAsync), so a run is cancelled from whichever node the client reaches.
        """
        ALTER TABLE runs ADD COLUMN cancel_requested text;
        """,

        // 6: the agent's cap on how many sessions it holds open (issue 14), moved from a service-wide setting into its budgets;
        // agents made before it get 4, the setting's old default and what an operator gets when creating one without naming it.
        """
        ALTER TABLE agents ADD COLUMN max_open_sessions bigint NOT NULL DEFAULT 4;
        """,

        // 7: work claimed, not pushed (issue 15, point 2; IRunClaims): a run offered to every node carries what it needs (its
        // backend and image or module, a JSON array of strings); nodes claim the oldest offered rows they serve.
        """
        ALTER TABLE runs ADD COLUMN needs jsonb;
        -- The claim's scan: only offered rows still waiting, oldest first.
        CREATE INDEX runs_claimable ON runs (created_at) WHERE state = 'queued' AND owner_node IS NULL AND needs IS NOT NULL;
        """,

        // 8: the agent's daily budget of what its runs add to the store (a refused request's record is bounded apart, an
        // admitted run's code and output were not), and what it used; agents made before it get the default at creation.
        """
        ALTER TABLE agents ADD COLUMN daily_stored_mb bigint NOT NULL DEFAULT 1024;
        ALTER TABLE usage ADD COLUMN stored_bytes bigint NOT NULL DEFAULT 0;
        """,
    ];

    /// <summary>The newest schema version this build knows.</summary>
    public static int LatestVersion => s_scripts.Length;

    /// <summary>
    /// Brings the database up to <see cref="LatestVersion"/>, one transaction per script (PostgreSQL's DDL is
    /// transactional: a script applies whole or not at all), and refuses (fails closed) a database stamped with a newer
    /// version than this build knows.
    /// </summary>
    public static async Task ApplyAsync(NpgsqlConnection connection, string describe, TimeProvider time, CancellationToken cancellationToken)
    {
        while (true)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock(@key)", cancellationToken, ("key", MigrationLockKey));
            await ExecuteAsync(connection, transaction, "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at text)", cancellationToken);

            long current;
            await using (var read = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", connection, transaction))
            {
                current = Convert.ToInt64(await read.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
            }

            if (current > LatestVersion)
            {
                throw new InvalidOperationException(
                    $"The guard database '{describe}' has schema version {current}, but this build of sandbox knows versions up to {LatestVersion}. " +
                    "It was written by a newer sandbox: upgrade sandbox, or point it at another database. It is not opened, so nothing in it is misread or overwritten.");
            }

            if (current == LatestVersion)
            {
                await transaction.CommitAsync(cancellationToken);
                return;
            }

            var next = checked((int)current + 1);
            await ExecuteAsync(connection, transaction, s_scripts[next - 1], cancellationToken);
            await ExecuteAsync(connection, transaction, "INSERT INTO schema_migrations (version, applied_at) VALUES (@version, @appliedAt)", cancellationToken,
                ("version", next), ("appliedAt", Audit.AuditChain.FormatTime(time.GetUtcNow())));
            await transaction.CommitAsync(cancellationToken);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
