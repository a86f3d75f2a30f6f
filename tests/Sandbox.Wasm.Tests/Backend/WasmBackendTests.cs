using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Wasm.Backend;
using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests.Backend;

/// <summary>
/// The backend on real modules (<c>Fixtures/Backend/*.wat</c>, each stating its expected status): every
/// status it can report, and hostile guests. Each test also checks the host is fine by running hello after.
/// </summary>
[Trait("Category", "Integration")]
public sealed class WasmBackendTests
{
    /// <summary>
    /// Peak memory is measured from the worker's cgroup (less the runtime's own footprint when it became ready): the
    /// guest's memory plus the engine's working memory for it (the decoded module, buffers), which stays under this.
    /// </summary>
    private const long EngineWorkingBytes = 48L * 1024 * 1024;

    private static readonly WasmBackend s_backend = new(TimeProvider.System, NullLogger<WasmBackend>.Instance);

    private static ResourceLimits Limits() => new()
    {
        WallTimeMs = 10_000,
        CpuTimeMs = 1_000,
        MemoryBytes = 16L * 1024 * 1024,
        Pids = 1,
        StdoutBytes = 64 * 1024,
        StderrBytes = 64 * 1024,
        FileSizeBytes = 1024 * 1024,
        TmpBytes = 1024 * 1024,
    };

    private static RunPlan Plan(string fixture, ResourceLimits? limits = null, string? stdin = null, IReadOnlyList<InputFile>? files = null) =>
        PlanFor(Convert.ToBase64String(Fixture.Load("Backend/" + fixture)), limits, stdin, files);

    private static RunPlan PlanFor(string code, ResourceLimits? limits = null, string? stdin = null, IReadOnlyList<InputFile>? files = null) => new()
    {
        RunId = "run_test",
        Request = new RunRequest { Language = LanguageNames.Wasm, Code = code, Stdin = stdin, Files = files },
        Profile = new Profile
        {
            Name = "wasm",
            Language = LanguageNames.Wasm,
            Backend = BackendNames.Wasm,
            SourceFile = "main.wasm",
            Environment = new Dictionary<string, string> { ["GREETING"] = "hi", ["HOME"] = "/tmp" },
            Limits = limits ?? Limits(),
        },
        Limits = limits ?? Limits(),
        Runtime = RuntimeNames.Runc,
    };

    private static async Task<RunResult> RunAsync(RunPlan plan)
    {
        var result = await s_backend.ExecuteAsync(plan, TestContext.Current.CancellationToken);

        // Whatever the guest did, the next run on the same backend is unaffected.
        var next = await s_backend.ExecuteAsync(Plan("hello"), TestContext.Current.CancellationToken);
        next.Status.ShouldBe(RunStatus.Ok);
        next.Stdout.ShouldBe("hello\n");
        return result;
    }

    [Fact]
    public async Task Execute_HelloWorld_OkWithStdoutAndUsage()
    {
        var result = await RunAsync(Plan("hello"));

        result.Status.ShouldBe(RunStatus.Ok);
        result.ExitCode.ShouldBe(0);
        result.Stdout.ShouldBe("hello\n");
        result.Usage.OutputBytes.ShouldBe(6);
        result.Usage.PeakMemoryBytes.ShouldBeInRange(65536, 65536 + EngineWorkingBytes);
        result.Usage.CpuMs.ShouldBeGreaterThanOrEqualTo(1);
        result.LimitBreach.ShouldBeNull();
    }

    [Fact]
    public async Task Execute_ProcExitNonZero_RuntimeErrorWithExitCodeAndStderr()
    {
        var result = await RunAsync(Plan("exit-code"));

        result.Status.ShouldBe(RunStatus.RuntimeError);
        result.ExitCode.ShouldBe(3);
        result.Stderr.ShouldBe("failing\n");
    }

    [Fact]
    public async Task Execute_InfiniteLoop_CpuLimitFromFuel()
    {
        var result = await RunAsync(Plan("infinite-loop", Limits() with { CpuTimeMs = 100 }));

        result.Status.ShouldBe(RunStatus.CpuLimit);
        result.LimitBreach.ShouldNotBeNull().Limit.ShouldBe(LimitNames.CpuTimeMs);
        result.LimitBreach.Value.ShouldBe(100);

        // Fuel stopped it, but what is reported is what the thread really used (the same value in the breach).
        result.LimitBreach.Observed.ShouldBe(result.Usage.CpuMs);
        result.Usage.CpuMs.ShouldBeGreaterThanOrEqualTo(1);
        result.ExitCode.ShouldBeNull();
    }

    [Fact]
    public async Task Execute_BusyLoop_CpuMsIsTheThreadsRealCpuTimeWithinItsWallTime()
    {
        // A spinning guest on one thread: it uses CPU all the time it runs, and can never use more than its wall time.
        var result = await RunAsync(Plan("infinite-loop", Limits() with { WallTimeMs = 400, CpuTimeMs = 600_000 }));

        result.Status.ShouldBe(RunStatus.Timeout);
        result.Usage.WallMs.ShouldBeGreaterThanOrEqualTo(350);
        // Loose lower bound: the other tests running in parallel on a small machine can starve the thread of CPU,
        // so "most of its wall time" is not guaranteed; a 400 ms spin still gets tens of milliseconds.
        result.Usage.CpuMs.ShouldBeGreaterThanOrEqualTo(10);

        // One thread: CPU time <= wall time, plus rounding (cpu is rounded up, wall down) and clock slack.
        result.Usage.CpuMs.ShouldBeLessThanOrEqualTo(result.Usage.WallMs + 20);
    }

    [Fact]
    public async Task Execute_SleepingGuest_CpuMsFarBelowWallMs()
    {
        // A guest blocked in poll_oneoff uses wall time but almost no CPU: cpuMs is measured, not derived.
        var result = await RunAsync(Plan("sleep-forever", Limits() with { WallTimeMs = 500 }));

        result.Status.ShouldBe(RunStatus.Timeout);
        result.Usage.WallMs.ShouldBeGreaterThanOrEqualTo(450);
        result.Usage.CpuMs.ShouldBeLessThan(result.Usage.WallMs / 2);
    }

    [Fact]
    public async Task Execute_InfiniteLoopWithShortWallClock_Timeout()
    {
        var result = await RunAsync(Plan("infinite-loop", Limits() with { WallTimeMs = 200, CpuTimeMs = 600_000 }));

        result.Status.ShouldBe(RunStatus.Timeout);
        result.LimitBreach.ShouldNotBeNull().Limit.ShouldBe(LimitNames.WallTimeMs);
        result.Usage.WallMs.ShouldBeGreaterThanOrEqualTo(200);
        result.Usage.WallMs.ShouldBeLessThan(5_000);
    }

    [Fact]
    public async Task Execute_SleepForAnHour_TimeoutAtTheDeadline()
    {
        var result = await RunAsync(Plan("sleep-forever", Limits() with { WallTimeMs = 200 }));

        result.Status.ShouldBe(RunStatus.Timeout);
        result.Usage.WallMs.ShouldBeLessThan(5_000);
    }

    [Fact]
    public async Task Execute_MemoryGrowToTheMaxThenTrap_MemoryLimit()
    {
        var result = await RunAsync(Plan("memory-grow-max"));

        result.Status.ShouldBe(RunStatus.MemoryLimit);
        result.LimitBreach.ShouldNotBeNull().Limit.ShouldBe(LimitNames.MemoryBytes);
        result.Usage.PeakMemoryBytes.ShouldBeInRange(16L * 1024 * 1024, (16L * 1024 * 1024) + EngineWorkingBytes);
    }

    [Fact]
    public async Task Execute_MemoryGrowRefusedThenExitOne_MemoryLimitWithExitCode()
    {
        var result = await RunAsync(Plan("memory-grow-exit"));

        result.Status.ShouldBe(RunStatus.MemoryLimit);
        result.ExitCode.ShouldBe(1);
    }

    [Fact]
    public async Task Execute_UnboundedRecursion_RuntimeErrorNamingTheTrap()
    {
        var result = await RunAsync(Plan("recursion"));

        result.Status.ShouldBe(RunStatus.RuntimeError);
        result.Message.ShouldNotBeNull().ShouldContain(nameof(WasmTrapKind.CallStackExhausted));
    }

    [Fact]
    public async Task Execute_DivideByZero_RuntimeErrorNamingTheTrap()
    {
        var result = await RunAsync(Plan("divide-by-zero"));

        result.Status.ShouldBe(RunStatus.RuntimeError);
        result.ExitCode.ShouldBeNull();
        result.Message.ShouldNotBeNull().ShouldContain(nameof(WasmTrapKind.IntegerDivideByZero));
    }

    [Fact]
    public async Task Execute_TableGrowHuge_RefusedAndOk()
    {
        var result = await RunAsync(Plan("table-grow"));

        result.Status.ShouldBe(RunStatus.Ok);
    }

    [Fact]
    public async Task Execute_OutputFlood_OutputLimitStopsTheGuest()
    {
        var result = await RunAsync(Plan("output-flood"));

        result.Status.ShouldBe(RunStatus.OutputLimit);
        result.LimitBreach.ShouldNotBeNull().Limit.ShouldBe(LimitNames.StdoutBytes);
        result.Stdout.Length.ShouldBe(64 * 1024);
        result.StdoutTruncated.ShouldBeTrue();
    }

    [Fact]
    public async Task Execute_PathEscapeAttempts_AllRefused()
    {
        var result = await RunAsync(Plan("path-escape"));

        result.Status.ShouldBe(RunStatus.Ok);
        result.Stdout.ShouldBe(new string('r', 62) + "\n");
    }

    [Fact]
    public async Task Execute_OutOfBoundsPointersToHostFunctions_EfaultEach()
    {
        var result = await RunAsync(Plan("bad-pointers"));

        result.Status.ShouldBe(RunStatus.Ok);
        result.Stdout.ShouldBe("ffffff\n");
    }

    [Fact]
    public async Task Execute_ReadsEnvArgsAndFiles_SeesOnlyWhatIsConfigured()
    {
        var files = new[] { new InputFile { Path = "input.txt", Content = "given\n" } };

        var result = await RunAsync(Plan("env-args", files: files));

        result.Status.ShouldBe(RunStatus.Ok);
        result.Stdout.ShouldBe("arg main.wasm\nenv GREETING=hi\nenv HOME=/tmp\nno /etc\ninput given\n");
    }

    [Fact]
    public async Task Execute_ProcExitInsideStartFunction_ReportsTheMemorySeen()
    {
        var result = await RunAsync(Plan("exit-in-start"));

        result.ExitCode.ShouldBe(4);
        result.Usage.PeakMemoryBytes.ShouldBeInRange(65536, 65536 + EngineWorkingBytes);
    }

    [Theory]
    [InlineData("exit-nested", RunStatus.RuntimeError, 5)]
    [InlineData("exit-twice", RunStatus.Ok, 0)]
    [InlineData("exit-in-start", RunStatus.RuntimeError, 4)]
    public async Task Execute_ProcExitInOddPlaces_FirstExitWins(string fixture, RunStatus status, int exitCode)
    {
        var result = await RunAsync(Plan(fixture));

        result.Status.ShouldBe(status);
        result.ExitCode.ShouldBe(exitCode);
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("bm90IGEgbW9kdWxl")]
    public async Task Execute_NotAModule_Rejected(string code)
    {
        var result = await RunAsync(PlanFor(code));

        result.Status.ShouldBe(RunStatus.Rejected);
        result.Errors.ShouldNotBeNull().ShouldHaveSingleItem().Field.ShouldBe("code");
    }

    [Fact]
    public async Task Execute_ModuleFailsValidation_RejectedNamingTheCode()
    {
        var result = await RunAsync(Plan("invalid-module"));

        result.Status.ShouldBe(RunStatus.Rejected);
        result.Errors.ShouldNotBeNull().ShouldHaveSingleItem().Field.ShouldBe("code");
    }

    [Theory]
    [InlineData("missing-import")]
    [InlineData("no-start")]
    public async Task Execute_ModuleThatCannotRunAsACommand_Rejected(string fixture)
    {
        var result = await RunAsync(Plan(fixture));

        result.Status.ShouldBe(RunStatus.Rejected);
    }

    [Fact]
    public async Task Execute_ProfileModuleMissing_SandboxInfrastructureException()
    {
        var plan = Plan("hello") with { Request = new RunRequest { Language = "python", Code = "print(1)" } };
        plan = plan with { Profile = plan.Profile with { Language = "python", Module = "/nonexistent/python.wasm" } };

        await Should.ThrowAsync<Sandbox.Core.Errors.SandboxInfrastructureException>(() => s_backend.ExecuteAsync(plan, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Execute_Cancelled_ThrowsOperationCanceled()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Should.ThrowAsync<OperationCanceledException>(() => s_backend.ExecuteAsync(Plan("sleep-forever"), cancel.Token));
    }
}
