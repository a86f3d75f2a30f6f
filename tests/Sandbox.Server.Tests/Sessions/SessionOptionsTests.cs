using Microsoft.Extensions.Configuration;
using Sandbox.Server.Hosting;
using Sandbox.Server.Sessions;

namespace Sandbox.Server.Tests.Sessions;

public sealed class SessionOptionsTests
{
    [Fact]
    public void Validate_Defaults_AreValid() => new SessionOptions().Validate("Sandbox:Sessions").ShouldBeEmpty();

    [Fact]
    public void Validate_EveryBadValue_IsNamedAtOnce()
    {
        var options = new SessionOptions
        {
            IdleTimeout = TimeSpan.Zero,
            MaxLifetime = TimeSpan.FromSeconds(-1),
            CpuBudgetMs = 10,
            IdleCpuMs = 0,
        };

        options.Validate("Sandbox:Sessions").Select(e => e.Field).ShouldBe(
            ["Sandbox:Sessions:IdleTimeout", "Sandbox:Sessions:MaxLifetime", "Sandbox:Sessions:IdleCpuMs", "Sandbox:Sessions:CpuBudgetMs"]);
    }

    [Fact]
    public void LoadOptions_RetiredMaxOpenPerAgent_FailsNamingTheAgentsBudgetInstead()
    {
        // An operator's old service-wide cap, silently ignored by the binder, would look obeyed while each agent got 4.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Sandbox:Sessions:MaxOpenPerAgent"] = "1" }).Build();

        var thrown = Should.Throw<ServerConfigurationException>(() => SessionComposition.LoadOptions(configuration));

        var error = thrown.Errors.ShouldHaveSingleItem();
        error.Field.ShouldBe("Sandbox:Sessions:MaxOpenPerAgent");
        error.Message.ShouldContain("maxOpenSessions");
    }

    [Fact]
    public void LoadOptions_NoSessionSettings_AreTheDefaults() =>
        SessionComposition.LoadOptions(new ConfigurationBuilder().Build()).IdleTimeout.ShouldBe(new SessionOptions().IdleTimeout);
}
