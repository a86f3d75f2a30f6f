using Microsoft.Extensions.Configuration;

namespace Sandbox.Server.Hosting.Tests;

public sealed class ServerOptionsTests
{
    [Fact]
    public void Validate_Defaults_AreUsable()
    {
        new ServerOptions().Validate().ShouldBeEmpty();
    }

    [Fact]
    public void Validate_ConnectionLimitsOutOfRange_NamesEveryKey()
    {
        var options = new ServerOptions
        {
            MaxConnections = 0,
            RequestHeadersTimeout = TimeSpan.Zero,
            KeepAliveTimeout = TimeSpan.FromHours(1),
            MinRequestBodyBytesPerSecond = 0,
            RequestBodyGracePeriod = TimeSpan.FromSeconds(1),
        };

        var fields = options.Validate().Select(e => e.Field).ToList();

        fields.ShouldBe(
            ["Sandbox:MaxConnections", "Sandbox:RequestHeadersTimeout", "Sandbox:KeepAliveTimeout", "Sandbox:MinRequestBodyBytesPerSecond", "Sandbox:RequestBodyGracePeriod"],
            ignoreOrder: true);
    }

    [Theory]
    [InlineData(4L * 1024 * 1024, 64L * 1024 * 1024, "Sandbox:MaxAgentRequestBytesInFlight")] // below one largest body (8 MiB)
    [InlineData(128L * 1024 * 1024, 64L * 1024 * 1024, "Sandbox:MaxAgentRequestBytesInFlight")] // above the total
    [InlineData(8L * 1024 * 1024, 128L * 1024 * 1024 * 1024, "Sandbox:MaxRequestBytesInFlight")] // past 64 GiB
    public void Validate_RequestBytesInFlightOutOfRange_NamesTheKey(long perAgent, long total, string key) =>
        new ServerOptions { MaxAgentRequestBytesInFlight = perAgent, MaxRequestBytesInFlight = total }.Validate().ShouldHaveSingleItem().Field.ShouldBe(key);

    [Theory]
    [InlineData(-1)]
    [InlineData(1_048_577)]
    public void Validate_MinFreeDataDiskMbOutOfRange_NamesTheKey(long megabytes) =>
        new ServerOptions { MinFreeDataDiskMb = megabytes }.Validate().ShouldHaveSingleItem().Field.ShouldBe("Sandbox:MinFreeDataDiskMb");

    [Fact]
    public void Validate_PostgresWithoutConnectionString_NamesTheKey_AndBindsFromConfiguration()
    {
        // Bound the way the service binds it (Sandbox:Store:Provider from any configuration source), then validated.
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Sandbox:Store:Provider"] = "postgres" })
            .Build();

        var thrown = Should.Throw<ServerConfigurationException>(() => SandboxComposition.LoadOptions(configuration));

        thrown.Errors.Select(e => e.Field).ShouldBe(["Sandbox:Store:ConnectionString"]);
    }
}
