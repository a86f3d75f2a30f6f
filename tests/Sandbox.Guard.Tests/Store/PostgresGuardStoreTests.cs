using Sandbox.Guard.Store;

namespace Sandbox.Guard.Tests.Store;

/// <summary>The store contract (<see cref="GuardStoreTests"/>) on a real PostgreSQL database, and what only a server has.</summary>
public sealed class PostgresGuardStoreTests(PostgresCluster cluster) : GuardStoreTests(new PostgresBacking(cluster))
{
    protected override int LatestVersion => PostgresMigrations.LatestVersion;

    [Fact]
    public async Task OpenAsync_NewDatabase_CreatesSchemaWithAppendOnlyAudit()
    {
        await OpenAsync();

        (await RawScalarAsync<long>("SELECT MAX(version) FROM schema_migrations")).ShouldBe(PostgresMigrations.LatestVersion);
        (await RawScalarAsync<long>("SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename IN ('agents', 'credentials', 'usage', 'approvals', 'audit', 'runs', 'run_inputs', 'run_output')")).ShouldBe(8);
        (await RawScalarAsync<long>("SELECT COUNT(*) FROM pg_trigger WHERE tgrelid = 'audit'::regclass AND NOT tgisinternal")).ShouldBe(3);
    }

    [Fact]
    public async Task OpenAsync_ServerUnreachable_ThrowsAStoreFailure()
    {
        var unreachable = new Npgsql.NpgsqlConnectionStringBuilder(((PostgresBacking)Backing).ConnectionString) { Port = 1, Timeout = 2 }.ToString();

        var thrown = await Should.ThrowAsync<Exception>(() => PostgresGuardStore.OpenAsync(unreachable, Clock, Ct));

        PostgresGuardStore.IsStoreFailure(thrown).ShouldBeTrue(thrown.ToString());
    }
}
