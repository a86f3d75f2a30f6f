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
}
