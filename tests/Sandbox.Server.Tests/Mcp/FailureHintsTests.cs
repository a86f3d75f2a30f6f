using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Server.Mcp;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Tests.Mcp;

public sealed class FailureHintsTests
{
    [Fact]
    public void For_Ok_IsNull() => FailureHints.For(Some.Result(RunStatus.Ok), Some.Catalog()).ShouldBeNull();

    [Fact]
    public void For_MemoryLimitAtTheDefaultProfilesCeiling_NamesTheProfileThatAllowsMore()
    {
        var result = Some.Result(RunStatus.MemoryLimit) with
        {
            LimitBreach = new LimitBreach(LimitNames.MemoryBytes, 256 * Some.MiB, 256 * Some.MiB),
        };

        var hint = FailureHints.For(result, Some.Catalog());

        hint.ShouldStartWith("memory_limit: used 256 MiB of 256 MiB memory; the profile 'python-big' allows up to 512 MiB: pass profile \"python-big\".");
        hint.ShouldContain("Use less memory");
    }

    [Fact]
    public void For_MemoryLimitTightenedByTheRequest_SaysTheProfileAllowsMore()
    {
        var result = Some.Result(RunStatus.MemoryLimit, profile: "python-big") with
        {
            Limits = Some.Limits(memoryBytes: 256 * Some.MiB),
            LimitBreach = new LimitBreach(LimitNames.MemoryBytes, 256 * Some.MiB, 256 * Some.MiB),
        };

        FailureHints.For(result, Some.Catalog())
            .ShouldStartWith("memory_limit: used 256 MiB of 256 MiB memory; the profile allows up to 512 MiB: raise limits.memoryBytes or leave it out.");
    }

    [Fact]
    public void For_TimeoutAtTheLargestProfile_SaysNoProfileAllowsMore()
    {
        var result = Some.Result(RunStatus.Timeout, profile: "python-big") with
        {
            Limits = Some.Limits(wallTimeMs: 60_000),
            LimitBreach = new LimitBreach(LimitNames.WallTimeMs, 60_000, 60_012),
        };

        var hint = FailureHints.For(result, Some.Catalog());

        hint.ShouldStartWith("timeout: used 60 s of 60 s wall time; that is the most any python profile allows.");
        hint.ShouldContain("endless loops");
    }

    [Fact]
    public void For_TimeoutWithoutBreach_UsesTheEffectiveLimitAndUsage()
    {
        var result = Some.Result(RunStatus.Timeout) with { Limits = Some.Limits(wallTimeMs: 1000), Usage = new ResourceUsage { WallMs = 1030 } };

        FailureHints.For(result, Some.Catalog())!.ShouldStartWith("timeout: used 1 s of 1 s wall time; the profile allows up to 10 s");
    }

    [Fact]
    public void For_CpuLimitWithOnlyDefaultsKnown_StillGivesNumbers()
    {
        var catalog = new LanguageCatalog(Some.Languages(), profiles: null);
        var result = Some.Result(RunStatus.CpuLimit) with { LimitBreach = new LimitBreach(LimitNames.CpuTimeMs, 5000, 5016) };

        FailureHints.For(result, catalog).ShouldStartWith("cpu_limit: used 5 s of 5 s CPU time; that is the most any python profile allows.");
    }

    [Fact]
    public void For_RuntimeErrorWithAMissingPackage_SaysNothingCanBeInstalled()
    {
        var message = MissingPackage.Message("python", "ModuleNotFoundError: No module named 'requests'\n", [new("numpy", "1.24.2")]);

        var hint = FailureHints.For(Some.Result(RunStatus.RuntimeError) with { ExitCode = 1, Hint = message }, Some.Catalog());

        hint.ShouldNotBeNull().ShouldStartWith("runtime_error: the program exited with code 1: module 'requests' is not installed");
        hint.ShouldContain("no network");
        hint.ShouldContain("numpy 1.24.2");
    }

    [Fact]
    public void For_RuntimeErrorBySignal_NamesTheSignal() =>
        FailureHints.For(Some.Result(RunStatus.RuntimeError) with { Signal = 11 }, Some.Catalog())
            .ShouldBe("runtime_error: the program was killed by signal 11 (SIGSEGV, an invalid memory access). Read stderr for the cause, fix the code and run again.");

    [Fact]
    public void For_UnknownLanguage_ListsTheLanguages()
    {
        var problem = ApiProblem.Invalid([new FieldError("language", "unknown language 'rust'")]);

        var hint = FailureHints.For(problem, Some.Catalog(), "rust");

        hint.ShouldStartWith("rejected: language 'rust' is not available; choose one of bash, javascript, python. Nothing ran.");
    }

    [Fact]
    public void For_UnknownProfile_ListsTheLanguagesProfiles()
    {
        var result = RunResult.Rejected("run_1", [new FieldError("profile", "unknown profile 'python-huge'")], "python");

        FailureHints.For(result, Some.Catalog())!
            .ShouldContain("- profile: unknown profile 'python-huge' (profiles for python: python, python-big, python-gvisor)");
    }

    [Fact]
    public void For_QueueFull_SaysWhenToRetry()
    {
        var problem = new ApiProblem { Status = 429, Code = "queue_full", Title = "Busy", Detail = "the queue is full (16 waiting)", RetryAfterSeconds = 3 };

        FailureHints.For(problem, Some.Catalog())
            .ShouldBe("queue_full: the sandbox is busy or unavailable, nothing ran (the queue is full (16 waiting)). Try again in 3 s.");
    }

    [Fact]
    public void For_SandboxErrorWithHostDetails_ScrubsThem()
    {
        var result = RunResult.SandboxError("run_1", "container 4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b failed: open /var/lib/docker/overlay2/x/merged: no such file");

        var hint = FailureHints.For(result, Some.Catalog())!;

        hint.ShouldStartWith("sandbox_error: the sandbox itself failed, not your program (container <id> failed: open <path>: no such file).");
        hint.ShouldNotContain("/var/lib");
    }
}
