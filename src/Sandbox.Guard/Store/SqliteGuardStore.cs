using Microsoft.Data.Sqlite;

namespace Sandbox.Guard.Store;

/// <summary>
/// The guard store in one SQLite file, shared by the service and the CLI (several processes at once).
/// </summary>
/// <remarks>
/// <para>
/// Each operation opens its own connection (from Microsoft.Data.Sqlite's pool) and closes it when done.
/// That makes every method safe to call from many threads without a lock of our own, and it is the
/// same discipline other processes follow: SQLite's file locks, not an in-process semaphore, are what
/// serialise writers, so one process gets no special treatment over another.
/// </para>
/// <para>
/// Every write runs in a <c>BEGIN IMMEDIATE</c> transaction: it takes the write lock before reading,
/// so a read-then-write (the audit head, a pending approval, a free name) cannot race another writer.
/// Split into partial files by aspect: agents and credentials, usage and approvals, the audit chain.
/// </para>
/// </remarks>
public sealed partial class SqliteGuardStore : IGuardStore
{
    // How long a connection waits for another process's lock before failing with SQLITE_BUSY.
    private const int BusyTimeoutMilliseconds = 5000;

    private static readonly Lazy<bool> s_sqliteInitialised = new(() =>
    {
        // Microsoft.Data.Sqlite also does this by reflection; doing it here makes the dependency on
        // the bundled e_sqlite3 explicit and fails at open, not at the first query.
        SQLitePCL.Batteries_V2.Init();
        return true;
    });

    private readonly string _connectionString;
    private readonly TimeProvider _time;
    private int _disposed;

    private SqliteGuardStore(string connectionString, TimeProvider time)
    {
        _connectionString = connectionString;
        _time = time;
    }

    /// <summary>
    /// Whether an exception is the store failing (a full disk, an I/O error, a read-only or locked file) rather than a bug:
    /// front ends answer it 503 <c>store_unavailable</c>, never a bare 500.
    /// </summary>
    public static bool IsStoreFailure(Exception exception) => exception is SqliteException || exception.InnerException is SqliteException;

    /// <summary>The database file this store uses.</summary>
    public string DatabasePath { get; private init; } = "";

    /// <summary>
    /// Opens the store at <paramref name="databasePath"/>, creating the directory and the file on first
    /// use and applying any missing schema migrations.
    /// </summary>
    /// <exception cref="InvalidOperationException">The file has a newer schema than this build knows, or cannot use WAL.</exception>
    public static async Task<SqliteGuardStore> OpenAsync(string databasePath, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        ArgumentNullException.ThrowIfNull(time);
        _ = s_sqliteInitialised.Value;

        var fullPath = Path.GetFullPath(databasePath);
        CreateOwnerOnly(fullPath);

        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = fullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
        }.ToString();

        var store = new SqliteGuardStore(connectionString, time) { DatabasePath = fullPath };
        try
        {
            await using var connection = await store.OpenConnectionAsync(cancellationToken);

            // WAL lets the CLI read and write while the service does: readers never block the writer
            // and the writer never blocks readers. It is a property of the file, so set once here.
            await using (var wal = connection.CreateCommand())
            {
                wal.CommandText = "PRAGMA journal_mode = WAL";
                var mode = (string?)await wal.ExecuteScalarAsync(cancellationToken);
                if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException(
                        $"The guard database '{fullPath}' could not switch to WAL journaling (it reports '{mode}'); " +
                        "put it on a local file system that supports shared memory.");
                }
            }

            await SqliteMigrations.ApplyAsync(connection, fullPath, time, cancellationToken);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    /// <summary>Closes the pooled connections to the file (other stores on the same file open new ones as needed).</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            using var connection = new SqliteConnection(_connectionString);
            SqliteConnection.ClearPool(connection);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Creates the directory and an empty database file readable by the owner only, when they are
    /// missing: the file holds submitted code and the hashes of every key.
    /// </summary>
    private static void CreateOwnerOnly(string fullPath)
    {
        var directory = Path.GetDirectoryName(fullPath)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            return;
        }

        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        if (!File.Exists(fullPath))
        {
            try
            {
                // SQLite treats an empty file as a new database; its -wal and -shm files take this file's mode.
                using var _ = new FileStream(fullPath, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
            }
            catch (IOException) when (File.Exists(fullPath))
            {
                // Another process created it first; its creator chose the mode.
            }
        }
    }

    /// <summary>
    /// A new (pooled) connection with the per-connection settings applied. They are applied on every
    /// open because a pooled connection may be fresh.
    /// </summary>
    private async Task<SqliteConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var pragmas = connection.CreateCommand();

            // busy_timeout: wait for another process's write lock instead of failing at once.
            // synchronous=FULL: in WAL mode NORMAL may lose the last commits on power loss; an audit
            //   record that was reported written must survive it, so every commit is synced.
            // foreign_keys: off by default in SQLite; a credential or approval without its agent is a bug.
            pragmas.CommandText = $"PRAGMA busy_timeout = {BusyTimeoutMilliseconds}; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;";
            await pragmas.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one <c>BEGIN IMMEDIATE</c> transaction on its own connection and
    /// commits only when it says so; a refusal, an exception or a cancellation rolls everything back.
    /// </summary>
    private async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<(bool Commit, T Result)>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);

        // deferred: false is BEGIN IMMEDIATE: the write lock is taken now, before anything is read.
        await using var transaction = connection.BeginTransaction(deferred: false);
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

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static async Task<int> ExecuteAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Reads every row of a query with <paramref name="map"/> on its own connection.</summary>
    private async Task<IReadOnlyList<T>> ReadAsync<T>(string sql, Func<SqliteDataReader, T> map, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await ReadAsync(connection, null, sql, map, cancellationToken, parameters);
    }

    private static async Task<IReadOnlyList<T>> ReadAsync<T>(SqliteConnection connection, SqliteTransaction? transaction, string sql, Func<SqliteDataReader, T> map, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
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
}
