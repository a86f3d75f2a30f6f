using Sandbox.Guard.Store;

namespace Sandbox.Guard.Tests.Store;

/// <summary>
/// The base of the store's contract tests: each test class derives once per store (SQLite, PostgreSQL), so both stores
/// pass the same tests. Stores opened here are disposed, and the database removed, when the test ends.
/// </summary>
public abstract class StoreContract : IAsyncLifetime
{
    private readonly List<IGuardStore> _stores = [];

    protected StoreContract(StoreBacking backing) => Backing = backing;

    protected StoreBacking Backing { get; }

    internal SteppingClock Clock { get; } = new();

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public virtual async ValueTask InitializeAsync()
    {
        if (Backing is PostgresBacking postgres)
        {
            await postgres.CreateAsync(Ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        await Backing.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    protected async Task<IGuardStore> OpenAsync()
    {
        var store = await Backing.OpenAsync(Clock, Ct);
        lock (_stores)
        {
            _stores.Add(store);
        }

        return store;
    }

    /// <summary>Runs SQL on the database through a connection of its own (no pool, no store).</summary>
    protected async Task<int> RawAsync(string sql, params (string Name, object? Value)[] parameters)
    {
        await using var connection = Backing.Connect();
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return await command.ExecuteNonQueryAsync(Ct);
    }

    protected async Task<T?> RawScalarAsync<T>(string sql)
    {
        await using var connection = Backing.Connect();
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var value = await command.ExecuteScalarAsync(Ct);
        return value is null or DBNull ? default : (T)Convert.ChangeType(value, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Makes writes fail as a full disk would (see <see cref="StoreBacking.FailWritesSql"/>).</summary>
    protected Task<int> FailWritesAsync(string name, string operation, string table, string? when = null) =>
        RawAsync(Backing.FailWritesSql(name, operation, table, when));
}
