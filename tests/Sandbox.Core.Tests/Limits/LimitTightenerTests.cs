using Sandbox.Core.Limits;
using Sandbox.Core.Tests.Support;

namespace Sandbox.Core.Tests.Limits;

public sealed class LimitTightenerTests
{
    [Fact]
    public void Apply_NoOverrides_ReturnsTheCeiling()
    {
        var (effective, errors) = LimitTightener.Apply(Some.Limits(), null);

        effective.ShouldBe(Some.Limits());
        errors.ShouldBeEmpty();
    }

    [Fact]
    public void Apply_EqualToCeiling_IsAllowed()
    {
        var ceiling = Some.Limits();

        var (effective, errors) = LimitTightener.Apply(ceiling, new LimitOverrides { StdoutBytes = ceiling.StdoutBytes });

        errors.ShouldBeEmpty();
        effective.ShouldBe(ceiling);
    }

    [Fact]
    public void Apply_EveryLimitAboveCeiling_ReportsEachField()
    {
        var c = Some.Limits();
        var overrides = new LimitOverrides
        {
            WallTimeMs = c.WallTimeMs + 1, CpuTimeMs = c.CpuTimeMs + 1, MemoryBytes = c.MemoryBytes + 1, Pids = c.Pids + 1,
            StdoutBytes = c.StdoutBytes + 1, StderrBytes = c.StderrBytes + 1, FileSizeBytes = c.FileSizeBytes + 1, TmpBytes = c.TmpBytes + 1,
        };

        var (effective, errors) = LimitTightener.Apply(c, overrides);

        effective.ShouldBeNull();
        errors.Select(e => e.Field).ShouldBe(c.Enumerate().Select(l => "limits." + l.Name));
    }
}
