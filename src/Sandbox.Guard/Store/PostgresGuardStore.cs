using System.Data.Common;
using Npgsql;

namespace Sandbox.Guard.Store;

/// <summary>
/// The guard store in a PostgreSQL database, shared by several nodes (and their CLIs) at once: chosen with
/// <c>Sandbox:Store:Provider=postgres</c> and a connection string. The same contract as <see cref="SqliteGuardStore"/>,
/// which stays the embedded default.
/// </summary>
/// <remarks>
/// <para>
/// Each operation takes its own connection from Npgsql's pool (one <see cref="NpgsqlDataSource"/> per store) and gives
/// it back when done, so every method is safe to call from many threads without a lock of our own.
/// </para>
/// <para>
/// Every write transaction first takes one transaction-scoped advisory lock (<see cref="WriteLockKey"/>), the
/// counterpart of SQLite's <c>BEGIN IMMEDIATE</c>: writers on every node are serialised, so a read-then-write (the
/// audit head, a pending approval, a free name, the runs an agent has in flight) cannot race another writer, and the
/// audit chain is appended in order whatever node writes. The lock is released by the commit or the rollback, so a
/// node that dies mid-transaction (its connection closes) cannot hold it. Reads take no lock (MVCC snapshots).
/// </para>
/// </remarks>
public sealed partial class PostgresGuardStore : IGuardStore
{
    /// <summary>The advisory lock every write transaction holds: 'sbxw' as a number, so it is recognisable in pg_locks.</summary>
    internal const long WriteLockKey = 0x73627877;

    private readonly NpgsqlDataSource _source;
    private readonly TimeProvider _time;
    private int _disposed;

    private PostgresGuardStore(NpgsqlDataSource source, TimeProvider time)
    {
        _source = source;
        _time = time;
    }

    /// <summary>
    /// Whether an exception is the store failing (the server down or unreachable, a full disk, a lost connection) rather
    /// than a bug: front ends answer it 503 <c>store_unavailable</c>, never a bare 500.
    /// </summary>
    public static bool IsStoreFailure(Exception exception) =>
        exception is NpgsqlException || exception.InnerException is NpgsqlException;

    /// <summary>The server and database this store uses, without the password (for logs and errors).</summary>
    public string Describe { get; private init; } = "";

    /// <summary>
    /// Opens the store on the database named by <paramref name="connectionString"/> and applies any missing schema
    /// migrations (the database itself must exist; the store creates its tables, never the database).
    /// </summary>
    /// <exception cref="InvalidOperationException">The database has a newer schema than this build knows.</exception>
    /// <exception cref="NpgsqlException">The server cannot be reached or refuses the credentials.</exception>
    public static async Task<PostgresGuardStore> OpenAsync(string connectionString, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentNullException.ThrowIfNull(time);

        var builder = new NpgsqlDataSourceBuilder(connectionString);
        var describe = $"{builder.ConnectionStringBuilder.Host}:{builder.ConnectionStringBuilder.Port}/{builder.ConnectionStringBuilder.Database}";
        var store = new PostgresGuardStore(builder.Build(), time) { Describe = describe };
        try
        {
            await using var connection = await store.OpenConnectionAsync(cancellationToken);
            await PostgresMigrations.ApplyAsync(connection, describe, time, cancellationToken);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    /// <summary>Closes the pooled connections (other stores on the same database keep theirs).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _source.DisposeAsync();
        }
    }

    private async Task<NpgsqlConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return await _source.OpenConnectionAsync(cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction on its own connection, under the write lock, and commits only when
    /// it says so; a refusal, an exception or a cancellation rolls everything back (and so releases the lock).
    /// </summary>
    private async Task<T> WriteAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<(bool Commit, T Result)>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Taken before anything is read: what this transaction reads stays true until it commits.
        await ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock(@key)", cancellationToken, ("key", WriteLockKey));
        var (commit, result) = await work(connection, transaction);
        if (commit)
        {
            await transaction.CommitAsync(cancellationToken);
        }
        else
        {
            await transaction.RollbackAsync(cancellationToken);
        }

        return result;
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Reads every row of a query with <paramref name="map"/> on its own connection.</summary>
    private async Task<IReadOnlyList<T>> ReadAsync<T>(string sql, Func<DbDataReader, T> map, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await ReadAsync(connection, null, sql, map, cancellationToken, parameters);
    }

    private static async Task<IReadOnlyList<T>> ReadAsync<T>(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, Func<DbDataReader, T> map, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    private static string? NullableString(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static DateTimeOffset? NullableTime(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : SqliteValues.ParseTime(reader.GetString(ordinal));
}
