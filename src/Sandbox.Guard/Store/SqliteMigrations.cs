using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Sandbox.Guard.Store;

/// <summary>
/// The guard database's schema, as an ordered list of scripts. Script <c>n</c> (1-based) takes the
/// database from version <c>n - 1</c> to <c>n</c>; <c>schema_migrations</c> records each version applied.
/// Append new scripts at the end and never edit one that has shipped: databases in the field have
/// already run it.
/// </summary>
internal static class SqliteMigrations
{
    private static readonly string[] s_scripts =
    [
        // 1: everything. Tables are STRICT so a wrongly typed value is an error, not a silent
        // conversion; times are text in AuditChain.FormatTime's fixed UTC format, which sorts as it compares.
        """
        CREATE TABLE agents (
            id TEXT NOT NULL PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            profiles TEXT NOT NULL,
            rate_per_minute INTEGER NOT NULL,
            max_concurrent_runs INTEGER NOT NULL,
            daily_cpu_seconds REAL NOT NULL,
            daily_runs INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            revoked_at TEXT,
            revoked_reason TEXT,
            under_approval INTEGER NOT NULL DEFAULT 0 CHECK (under_approval IN (0, 1)),
            under_approval_reason TEXT
        ) STRICT;

        CREATE TABLE credentials (
            id TEXT NOT NULL PRIMARY KEY,
            agent_id TEXT NOT NULL REFERENCES agents (id),
            kind TEXT NOT NULL CHECK (kind IN ('agent_key', 'task_token')),
            secret_sha256 TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            revoked_at TEXT,
            profiles TEXT,
            max_runs INTEGER,
            cpu_seconds REAL,
            purpose TEXT
        ) STRICT;
        CREATE INDEX credentials_agent ON credentials (agent_id, created_at);

        CREATE TABLE usage (
            subject TEXT NOT NULL,
            period TEXT NOT NULL,
            runs INTEGER NOT NULL,
            cpu_ms INTEGER NOT NULL,
            PRIMARY KEY (subject, period)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE approvals (
            id TEXT NOT NULL PRIMARY KEY,
            run_id TEXT NOT NULL,
            agent_id TEXT NOT NULL REFERENCES agents (id),
            agent_name TEXT NOT NULL,
            profile TEXT NOT NULL,
            language TEXT NOT NULL,
            code_sha256 TEXT NOT NULL,
            code TEXT NOT NULL,
            purpose TEXT,
            reason TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'expired')),
            decided_by TEXT,
            decided_at TEXT,
            note TEXT
        ) STRICT;
        CREATE INDEX approvals_state ON approvals (state, created_at);

        CREATE TABLE audit (
            seq INTEGER NOT NULL PRIMARY KEY,
            time TEXT NOT NULL,
            kind TEXT NOT NULL,
            agent_id TEXT,
            run_id TEXT,
            status TEXT,
            data TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        ) STRICT;
        CREATE INDEX audit_agent ON audit (agent_id);
        CREATE INDEX audit_run ON audit (run_id);
        CREATE INDEX audit_kind ON audit (kind);
        CREATE INDEX audit_time ON audit (time);

        -- The audit is append-only. The chain is what proves it (anyone with the file can drop these
        -- triggers); the triggers stop a bug or a careless hand from breaking it by accident.
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
        """,

        // 2: a task token names the agent key that minted it, so it dies when that key is rotated or revoked.
        // Tokens minted before this have no parent; a rotation revokes every live token of the agent anyway.
        """
        ALTER TABLE credentials ADD COLUMN parent_id TEXT;
        """,

        // 3: an approval binds everything that would run, not only the code: stdin, files, backend, runtime and
        // limits (as JSON in details), and the digest of all of it. Older approvals have neither and are never released.
        """
        ALTER TABLE approvals ADD COLUMN details TEXT;
        ALTER TABLE approvals ADD COLUMN request_sha256 TEXT;
        """,

        // 4: runs, so a result and an idempotency key outlive the process for the retention period (issue 11, point 2).
        // The key is stored already scoped (agent, and task token when a token used it), so UNIQUE binds it exactly as
        // the in-memory map did; view is the caller's view at completion, opaque to the store. expires_at drives deletion.
        """
        CREATE TABLE runs (
            run_id TEXT NOT NULL PRIMARY KEY,
            agent_id TEXT NOT NULL,
            credential_id TEXT NOT NULL,
            idempotency_key TEXT UNIQUE,
            request_sha256 TEXT,
            plan TEXT,
            state TEXT NOT NULL CHECK (state IN ('pending_approval', 'queued', 'running', 'completed')),
            status TEXT,
            reason TEXT,
            created_at TEXT NOT NULL,
            completed_at TEXT,
            expires_at TEXT NOT NULL,
            view TEXT
        ) STRICT;
        CREATE INDEX runs_expires ON runs (expires_at);
        """,

        // 5: a run's inputs (request with code, stdin and files, within the request caps, and the plan it was receipted
        // with) kept beside its row so an operator can replay it (issue 11, point 8). Its own table so a GET never reads
        // the code, and a trigger so it goes exactly when the run's row goes (retention, or any other delete).
        """
        CREATE TABLE run_inputs (
            run_id TEXT NOT NULL PRIMARY KEY,
            inputs TEXT NOT NULL
        ) STRICT;
        CREATE TRIGGER runs_delete_inputs AFTER DELETE ON runs
        BEGIN DELETE FROM run_inputs WHERE run_id = old.run_id; END;
        """,

        // 6: a running run's output as it streams, in bounded chunks (issue 11: "output as far as it was persisted"), so the
        // run's end recovered after a crash of the service (or of the service and the daemon) still carries what the program
        // printed before it. Only while the run is open: its end (which keeps the output within caps in its view) deletes
        // them in the same transaction, so one copy is kept at a time; the trigger covers any other delete of the row.
        """
        CREATE TABLE run_output (
            seq INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL,
            stream TEXT NOT NULL CHECK (stream IN ('stdout', 'stderr')),
            bytes BLOB NOT NULL
        ) STRICT;
        CREATE INDEX run_output_run ON run_output (run_id, seq);
        CREATE TRIGGER runs_delete_output AFTER DELETE ON runs
        BEGIN DELETE FROM run_output WHERE run_id = old.run_id; END;
        """,

        // 7: the files a run returned from /tmp/outputs (issue 14), written with its end and downloadable for as long as its row is
        // kept; the trigger deletes them with the row (expiry), so no artifact outlives its run.
        """
        CREATE TABLE run_artifacts (
            run_id TEXT NOT NULL,
            path TEXT NOT NULL,
            media_type TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            bytes BLOB NOT NULL,
            PRIMARY KEY (run_id, path)
        ) STRICT, WITHOUT ROWID;
        CREATE TRIGGER runs_delete_artifacts AFTER DELETE ON runs
        BEGIN DELETE FROM run_artifacts WHERE run_id = old.run_id; END;
        """,

        // 8: the agent's cap on the memory of its open sessions (issue 14), beside its other budgets; agents made before it
        // get the default an operator gets when creating one without naming it.
        """
        ALTER TABLE agents ADD COLUMN max_session_memory_mb INTEGER NOT NULL DEFAULT 1024;
        """,

        // 9: the agent's cap on how many sessions it holds open (issue 14), moved from a service-wide setting into its budgets;
        // agents made before it get 4, the setting's old default and what an operator gets when creating one without naming it.
        """
        ALTER TABLE agents ADD COLUMN max_open_sessions INTEGER NOT NULL DEFAULT 4;
        """,

        // 10: the agent's daily budget of what its runs add to the store (a refused request's record is bounded apart, an
        // admitted run's code and output were not), and what it used; agents made before it get the default at creation.
        """
        ALTER TABLE agents ADD COLUMN daily_stored_mb INTEGER NOT NULL DEFAULT 1024;
        ALTER TABLE usage ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0;
        """,
    ];

    /// <summary>The newest schema version this build knows.</summary>
    public static int LatestVersion => s_scripts.Length;

    /// <summary>
    /// Brings the database up to <see cref="LatestVersion"/>, one transaction per script, and refuses
    /// (fails closed) a database stamped with a newer version than this build knows.
    /// </summary>
    /// <remarks>
    /// Each step reads the current version inside its own <c>BEGIN IMMEDIATE</c> transaction, so two
    /// processes opening a new file at once cannot both apply the same script: the second waits for the
    /// write lock and then sees the version the first recorded.
    /// </remarks>
    public static async Task ApplyAsync(SqliteConnection connection, string databasePath, TimeProvider time, CancellationToken cancellationToken)
    {
        while (true)
        {
            await using var transaction = connection.BeginTransaction(deferred: false);
            await using (var create = connection.CreateCommand())
            {
                create.Transaction = transaction;
                create.CommandText = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)";
                await create.ExecuteNonQueryAsync(cancellationToken);
            }

            long current;
            await using (var read = connection.CreateCommand())
            {
                read.Transaction = transaction;
                read.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
                current = Convert.ToInt64(await read.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
            }

            if (current > LatestVersion)
            {
                throw new InvalidOperationException(
                    $"The guard database '{databasePath}' has schema version {current}, but this build of sandbox knows versions up to {LatestVersion}. " +
                    "It was written by a newer sandbox: upgrade sandbox, or point it at another database. It is not opened, so nothing in it is misread or overwritten.");
            }

            if (current == LatestVersion)
            {
                await transaction.CommitAsync(cancellationToken);
                return;
            }

            var next = checked((int)current + 1);
            await using (var migrate = connection.CreateCommand())
            {
                migrate.Transaction = transaction;
                migrate.CommandText = s_scripts[next - 1];
                await migrate.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var stamp = connection.CreateCommand())
            {
                stamp.Transaction = transaction;
                stamp.CommandText = "INSERT INTO schema_migrations (version, applied_at) VALUES ($version, $appliedAt)";
                stamp.Parameters.AddWithValue("$version", next);
                stamp.Parameters.AddWithValue("$appliedAt", Audit.AuditChain.FormatTime(time.GetUtcNow()));
                await stamp.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }
    }
}
