using Sandbox.Docker.Spec;
using Sandbox.Docker.Tests.Support;

namespace Sandbox.Docker.Tests.Spec;

public sealed class LimitsLabelTests
{
    [Fact]
    public void Parse_WhatFormatWrote_IsTheSameLimitsAndCode()
    {
        var limits = SomeStep.Limits();

        var parsed = LimitsLabel.Parse(LimitsLabel.Format(limits, compileErrorExitCode: 42, compileCpuMs: 1234)).ShouldNotBeNull();

        parsed.Limits.ShouldBe(limits);
        parsed.CompileErrorExitCode.ShouldBe(42);
        parsed.CompileCpuMs.ShouldBe(1234, "recovery charges the compile step's CPU too");
        LimitsLabel.Parse(LimitsLabel.Format(limits)).ShouldNotBeNull().CompileCpuMs.ShouldBeNull();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("wallTimeMs=10000")]
    [InlineData("wallTimeMs=ten;cpuTimeMs=1")]
    public void Parse_MissingOrMalformed_IsNullSoTheContainerIsNotJudged(string? label) => LimitsLabel.Parse(label).ShouldBeNull();
}
