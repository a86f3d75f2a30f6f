using Sandbox.Guard.Store;

namespace Sandbox.Guard.Tests.Store;

/// <summary>The store contract (<see cref="GuardStoreTests"/>) on a real SQLite file, and what only a file has.</summary>
public sealed class SqliteGuardStoreTests() : GuardStoreTests(new SqliteBacking())
{
    protected override int LatestVersion => SqliteMigrations.LatestVersion;

    private string DatabasePath => ((SqliteBacking)Backing).DatabasePath;

    [Fact]
    public async Task OpenAsync_NewPath_CreatesFolderFileAndSchema()
    {
        await OpenAsync();

        File.Exists(DatabasePath).ShouldBeTrue();
        (await RawScalarAsync<long>("SELECT MAX(version) FROM schema_migrations")).ShouldBe(SqliteMigrations.LatestVersion);
        (await RawScalarAsync<long>("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('agents', 'credentials', 'usage', 'approvals', 'audit', 'runs')")).ShouldBe(6);
        (await RawScalarAsync<long>("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit' AND name LIKE 'audit_%'")).ShouldBe(4);
        (await RawScalarAsync<string>("PRAGMA journal_mode")).ShouldBe("wal");
    }

    [Fact]
    public async Task OpenAsync_NewFile_IsReadableByItsOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("Unix file modes only");
            return;
        }

        await OpenAsync();

        File.GetUnixFileMode(DatabasePath).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
