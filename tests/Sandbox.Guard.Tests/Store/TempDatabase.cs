using Microsoft.Data.Sqlite;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Tests.Store;

/// <summary>
/// A real SQLite file in a fresh directory of its own, removed with everything opened on it when the
/// test ends. <see cref="Raw"/> opens the file behind the store's back, as another program (or an
/// attacker with the file) would.
/// </summary>
public abstract class TempDatabase : IAsyncLifetime
{
    private readonly List<SqliteGuardStore> _stores = [];
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "sandbox-guard-tests", Guid.NewGuid().ToString("N"));

    /// <summary>In a folder that does not exist yet, so opening must create it.</summary>
    protected string DatabasePath => Path.Combine(_directory, "state", "guard.db");

    internal SteppingClock Clock { get; } = new();

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        // Disposing a store closed its pooled connections, so nothing holds the file open now.
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    protected async Task<SqliteGuardStore> OpenAsync()
    {
        var store = await SqliteGuardStore.OpenAsync(DatabasePath, Clock, Ct);
        _stores.Add(store);
        return store;
    }

    /// <summary>Runs SQL on the file through a connection of its own (no pool, no store).</summary>
    protected async Task<int> RawAsync(string sql, params (string Name, object? Value)[] parameters)
    {
        await using var connection = Raw();
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return await command.ExecuteNonQueryAsync(Ct);
    }

    protected async Task<T?> RawScalarAsync<T>(string sql)
    {
        await using var connection = Raw();
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var value = await command.ExecuteScalarAsync(Ct);
        return value is null or DBNull ? default : (T)Convert.ChangeType(value, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    private SqliteConnection Raw() => new(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
}
