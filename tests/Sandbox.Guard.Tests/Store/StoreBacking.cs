using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Tests.Store;

/// <summary>
/// The database behind a store under test, and what someone with direct access to it can do behind the store's back
/// (raw SQL, dropping the audit's guards, making writes fail as a full disk would), in that database's own dialect.
/// The contract tests (<see cref="StoreContract"/>) run once per backing. Raw SQL takes <c>@name</c> parameters, which
/// both engines read.
/// </summary>
public abstract class StoreBacking : IAsyncDisposable
{
    public abstract string Name { get; }

    public abstract Task<IGuardStore> OpenAsync(TimeProvider clock, CancellationToken cancellationToken);

    public abstract DbConnection Connect();

    /// <summary>SQL that removes the audit table's append-only triggers (what an owner of the database can do).</summary>
    public abstract string DropAuditGuardsSql { get; }

    /// <summary>Makes every <paramref name="operation"/> (INSERT, UPDATE) on <paramref name="table"/> matching <paramref name="condition"/> fail like a full disk.</summary>
    public abstract string FailWritesSql(string name, string operation, string table, string? condition);

    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return CleanUpAsync();
    }

    /// <summary>Removes the database (the stores on it were disposed first).</summary>
    protected virtual ValueTask CleanUpAsync() => ValueTask.CompletedTask;
}

/// <summary>A real SQLite file in a fresh directory of its own, removed when the test ends.</summary>
public sealed class SqliteBacking : StoreBacking
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "sandbox-guard-tests", Guid.NewGuid().ToString("N"));

    public override string Name => "sqlite";

    /// <summary>In a folder that does not exist yet, so opening must create it.</summary>
    public string DatabasePath => Path.Combine(_directory, "state", "guard.db");

    public override async Task<IGuardStore> OpenAsync(TimeProvider clock, CancellationToken cancellationToken) =>
        await SqliteGuardStore.OpenAsync(DatabasePath, clock, cancellationToken);

    public override DbConnection Connect() => new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());

    public override string DropAuditGuardsSql => "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;";

    public override string FailWritesSql(string name, string operation, string table, string? condition) =>
        $"CREATE TRIGGER {name} BEFORE {operation} ON {table} {(condition is null ? "" : "WHEN " + condition)} BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;";

    protected override ValueTask CleanUpAsync()
    {
        // The stores were disposed first (their pooled connections closed), so nothing holds the file open now.
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>A fresh database on the tests' own PostgreSQL server (<see cref="PostgresCluster"/>).</summary>
public sealed class PostgresBacking(PostgresCluster cluster) : StoreBacking
{
    private string? _connectionString;

    public override string Name => "postgres";

    public string ConnectionString => _connectionString ?? throw new InvalidOperationException("Call CreateAsync first.");

    public async Task CreateAsync(CancellationToken cancellationToken) =>
        _connectionString = await cluster.CreateDatabaseAsync(cancellationToken);

    public override async Task<IGuardStore> OpenAsync(TimeProvider clock, CancellationToken cancellationToken) =>
        await PostgresGuardStore.OpenAsync(ConnectionString, clock, cancellationToken);

    public override DbConnection Connect() => new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ToString());

    public override string DropAuditGuardsSql => "DROP TRIGGER audit_no_update ON audit; DROP TRIGGER audit_no_delete ON audit;";

    public override string FailWritesSql(string name, string operation, string table, string? condition) =>
        $"""
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'database or disk is full'; END $$;
        CREATE TRIGGER {name} BEFORE {operation} ON {table} FOR EACH ROW {(condition is null ? "" : $"WHEN ({condition})")} EXECUTE FUNCTION {name}();
        """;
}
