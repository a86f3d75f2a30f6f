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
            MaxOpenPerAgent = -1,
            CpuBudgetMs = 10,
        };

        options.Validate("Sandbox:Sessions").Select(e => e.Field).ShouldBe(
            ["Sandbox:Sessions:IdleTimeout", "Sandbox:Sessions:MaxLifetime", "Sandbox:Sessions:MaxOpenPerAgent", "Sandbox:Sessions:CpuBudgetMs"]);
    }
}
