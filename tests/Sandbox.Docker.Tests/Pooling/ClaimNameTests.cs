using Sandbox.Docker.Client;
using Sandbox.Docker.Pooling;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.Tests.Pooling;

public sealed class ClaimNameTests
{
    private static ContainerSummary Container(string name, bool pool = true) => new()
    {
        Id = "c0ffee",
        Names = ["/" + name],
        Labels = pool
            ? new Dictionary<string, string> { [SandboxLabels.Managed] = "true", [SandboxLabels.Pool] = "p1" }
            : new Dictionary<string, string> { [SandboxLabels.Managed] = "true", [SandboxLabels.RunId] = "run_x" },
    };

    [Fact]
    public void Parse_ClaimedPoolContainer_GivesItsRunAndClaimTime()
    {
        var parsed = ClaimName.Parse(Container(ClaimName.Format("run_01a2b3", 1_800_000_000_123)));

        parsed.ShouldNotBeNull();
        parsed.Value.RunId.ShouldBe("run_01a2b3");
        parsed.Value.ClaimedAt.ShouldBe(DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_123));
    }

    [Fact]
    public void Parse_ClaimedRunStepOfACompiledProgram_GivesItsCompileCpu()
    {
        var parsed = ClaimName.Parse(Container(ClaimName.Format("run-01.a", 1_800_000_000_123, "run", compileCpuMs: 250)));

        parsed.ShouldNotBeNull();
        parsed.Value.RunId.ShouldBe("run-01.a");
        parsed.Value.CompileCpuMs.ShouldBe(250);
        ClaimName.Parse(Container(ClaimName.Format("run_x", 5, "compile"))).ShouldNotBeNull().CompileCpuMs.ShouldBeNull();
    }

    [Fact]
    public void Parse_UnclaimedPoolContainer_IsNull() => ClaimName.Parse(Container("sandbox-pool-0123456789abcdef-run")).ShouldBeNull();

    [Fact]
    public void Parse_RunContainerNamedLikeAClaim_IsNullWithoutThePoolLabel() =>
        ClaimName.Parse(Container(ClaimName.Format("run_01a2b3", 1), pool: false)).ShouldBeNull();
}
