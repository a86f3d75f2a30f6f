using Sandbox.Guard.Store;

namespace Sandbox.Guard.Tests.Store;

public sealed class StoreOptionsTests
{
    [Fact]
    public void Validate_Defaults_AreSqliteAndUsable()
    {
        var options = new StoreOptions();

        options.Validate().ShouldBeEmpty();
        options.IsPostgres.ShouldBeFalse();
    }

    [Fact]
    public void Validate_PostgresWithAConnectionString_IsUsable() =>
        new StoreOptions { Provider = "postgres", ConnectionString = "Host=127.0.0.1;Port=5432;Database=sandbox;Username=sandbox;Password=secret" }.Validate().ShouldBeEmpty();

    [Theory]
    [InlineData("postgres", null, "Sandbox:Store:ConnectionString", "is missing")]
    [InlineData("postgres", "  ", "Sandbox:Store:ConnectionString", "is missing")]
    [InlineData("postgres", "Host=127.0.0.1;Username=sandbox", "Sandbox:Store:ConnectionString", "names no Database")]
    [InlineData("postgres", "Database=sandbox", "Sandbox:Store:ConnectionString", "names no Host")]
    [InlineData("postgres", "Hots=127.0.0.1;Database=sandbox", "Sandbox:Store:ConnectionString", "cannot be read")]
    [InlineData("sqlite", "Host=127.0.0.1;Database=sandbox", "Sandbox:Store:ConnectionString", "Provider is sqlite")]
    [InlineData("Postgres", null, "Sandbox:Store:Provider", "use sqlite")]
    [InlineData("mysql", null, "Sandbox:Store:Provider", "use sqlite")]
    public void Validate_Unusable_FailsClosedNamingTheKeyAndTheFix(string provider, string? connectionString, string field, string fix)
    {
        var error = new StoreOptions { Provider = provider, ConnectionString = connectionString }.Validate().ShouldHaveSingleItem();

        error.Field.ShouldBe(field);
        error.Message.ShouldContain(fix);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(301)]
    public void Validate_NodeLeaseOutOfRange_FailsClosedNamingTheKey(int seconds)
    {
        var error = new StoreOptions { Provider = "postgres", ConnectionString = "Host=db;Database=sandbox", NodeLease = TimeSpan.FromSeconds(seconds) }.Validate().ShouldHaveSingleItem();

        error.Field.ShouldBe("Sandbox:Store:NodeLease");
        error.Message.ShouldContain("00:00:02 to 00:05:00");
    }

    [Fact]
    public void Validate_UnreadableConnectionString_NeverEchoesThePassword()
    {
        var error = new StoreOptions { Provider = "postgres", ConnectionString = "Host=db;Database=sandbox;Password=hunter2;Bogus=1" }.Validate().ShouldHaveSingleItem();

        error.Message.ShouldNotContain("hunter2");
    }
}
