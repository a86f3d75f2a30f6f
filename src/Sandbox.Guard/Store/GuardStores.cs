namespace Sandbox.Guard.Store;

/// <summary>Opens the store the settings choose, for every front end (the service, <c>sandbox mcp</c> and the operator's CLI).</summary>
public static class GuardStores
{
    /// <summary>
    /// The PostgreSQL store when <paramref name="options"/> choose it, else the SQLite file under <paramref name="dataDirectory"/>;
    /// the options must be valid (<see cref="StoreOptions.Validate"/>).
    /// </summary>
    public static async Task<IGuardStore> OpenAsync(StoreOptions options, string dataDirectory, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.IsPostgres
            ? await PostgresGuardStore.OpenAsync(options.ConnectionString!, time, cancellationToken)
            : await SqliteGuardStore.OpenAsync(GuardPaths.Database(dataDirectory), time, cancellationToken);
    }

    /// <summary>
    /// Whether an exception is a store failing (a full disk, a server down, a lost connection) rather than a bug, whichever
    /// the store: front ends answer it 503 <c>store_unavailable</c>, never a bare 500.
    /// </summary>
    public static bool IsStoreFailure(Exception exception) =>
        SqliteGuardStore.IsStoreFailure(exception) || PostgresGuardStore.IsStoreFailure(exception);
}
