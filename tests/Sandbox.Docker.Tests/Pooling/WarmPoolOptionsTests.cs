using Sandbox.Docker.Pooling;

namespace Sandbox.Docker.Tests.Pooling;

public sealed class WarmPoolOptionsTests
{
    private static readonly HashSet<string> s_profiles = new(StringComparer.Ordinal) { "python", "python-gvisor", "bash" };

    [Fact]
    public void Validate_Defaults_AreUsable() => new WarmPoolOptions().Validate("Sandbox:WarmPool", s_profiles).ShouldBeEmpty();

    [Fact]
    public void Validate_UnknownProfileRuntimeAndSizes_NameEachKey()
    {
        var options = new WarmPoolOptions
        {
            Sizes = new() { ["pyton"] = 1, ["python@kata"] = 1, ["bash"] = -1 },
            MaxContainers = -1,
            RefillConcurrency = 0,
            RepinInterval = TimeSpan.Zero,
        };

        var fields = options.Validate("Sandbox:WarmPool", s_profiles).Select(e => e.Field).ToList();

        fields.ShouldBe(
            ["Sandbox:WarmPool:MaxContainers", "Sandbox:WarmPool:RefillConcurrency", "Sandbox:WarmPool:RepinInterval", "Sandbox:WarmPool:Sizes:pyton", "Sandbox:WarmPool:Sizes:python@kata", "Sandbox:WarmPool:Sizes:bash"],
            ignoreOrder: true);
    }

    [Fact]
    public void Split_ProfileAtRuntime_GivesBoth()
    {
        WarmPoolOptions.Split("python@runsc").ShouldBe(("python", "runsc"));
        WarmPoolOptions.Split("python").ShouldBe(("python", (string?)null));
    }
}
