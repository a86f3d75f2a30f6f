using Sandbox.Docker.Pooling;
using Sandbox.Docker.Tests.Support;

namespace Sandbox.Docker.Tests.Pooling;

/// <summary>A warm container matches a run only when everything but the run's identity is equal.</summary>
public sealed class PoolKeyTests
{
    [Fact]
    public void Of_StepsDifferingOnlyInRunIdentity_HaveOneKey()
    {
        var step = SomeStep.Step();
        var other = step with
        {
            RunId = "run_other",
            CgroupParent = "/sandbox/run_other-run",
            DeadlineUnixMs = step.DeadlineUnixMs + 12345,
            KillAtUnixMs = 0,
            Pool = "p123",
            CompileCpuMs = 420, // the compile step's CPU of one run: a compiled program's run step still claims
        };

        PoolKey.Of(other).ShouldBe(PoolKey.Of(step));
    }

    [Fact]
    public void Of_LoweredLimit_IsAnotherKey()
    {
        var step = SomeStep.Step();

        PoolKey.Of(step with { Limits = step.Limits with { MemoryBytes = step.Limits.MemoryBytes / 2 } }).ShouldNotBe(PoolKey.Of(step));
        PoolKey.Of(step with { Limits = step.Limits with { WallTimeMs = step.Limits.WallTimeMs - 1 } }).ShouldNotBe(PoolKey.Of(step));
    }

    [Fact]
    public void Of_OtherRuntimeImageOrCommand_IsAnotherKey()
    {
        var step = SomeStep.Step();

        PoolKey.Of(SomeStep.Step(runtime: "runsc")).ShouldNotBe(PoolKey.Of(step));
        PoolKey.Of(step with { Image = "sha256:other" }).ShouldNotBe(PoolKey.Of(step));
        PoolKey.Of(step with { Command = ["python3", "-c", "1"] }).ShouldNotBe(PoolKey.Of(step));
        PoolKey.Of(step with { TmpExec = !step.TmpExec }).ShouldNotBe(PoolKey.Of(step));
    }
}
