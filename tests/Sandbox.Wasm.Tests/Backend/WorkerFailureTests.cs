using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Errors;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Wasm.Backend;
using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests.Backend;

/// <summary>
/// A worker that dies, hangs or answers garbage, stood in by a real process in the same sandbox and cgroup: the run
/// gets a clear status or a sandbox_error, within its deadline, and nothing of the worker is left behind.
/// </summary>
public sealed class WorkerFailureTests
{
    private const long WallTimeMs = 1500;

    /// <summary>Far more than the wall time: these runs end by the deadline, the protocol or fuel, never by CPU.</summary>
    private const long CpuTimeMs = 10_000;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WorkerThatHangs_IsKilledAtTheDeadline_AndTheRunIsATimeout()
    {
        var (result, elapsed, runId) = await RunAsync(["/usr/bin/sleep", "600"]);

        result.ShouldNotBeNull().Status.ShouldBe(RunStatus.Timeout);
        result.LimitBreach.ShouldNotBeNull().Limit.ShouldBe(LimitNames.WallTimeMs);
        elapsed.TotalMilliseconds.ShouldBeLessThan(WallTimeMs + 1000, "the deadline plus the grace, never the process's own pace");
        SpinningRun.Cgroups(runId).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("printf 'garbage, not frames'")]                    // an unknown frame type
    [InlineData("printf '\\020\\377\\377\\377\\177'")]               // a Ready frame claiming 2 GiB: refused before anything is allocated
    [InlineData("printf '\\023\\003\\000\\000\\000{x:'")]            // a Result frame before Ready, and not JSON
    public async Task WorkerThatAnswersGarbage_IsKilled_AndTheRunIsOurFailure(string script)
    {
        var (_, elapsed, runId, error) = await RunExpectingFailureAsync(["/usr/bin/sh", "-c", script + "; sleep 600"]);

        error.Message.ShouldContain("broke its protocol");
        elapsed.TotalMilliseconds.ShouldBeLessThan(WallTimeMs, "killed as soon as it breaks the protocol, not at the deadline");
        SpinningRun.Cgroups(runId).ShouldBeEmpty();
    }

    [Fact]
    public async Task WorkerThatDies_IsOurFailure_NamedWithoutHostDetails()
    {
        var (_, _, runId, error) = await RunExpectingFailureAsync(["/usr/bin/sh", "-c", "kill -9 $$"]);

        error.Message.ShouldContain("exited (137) without a result");
        error.Message.ShouldNotContain("/");
        SpinningRun.Cgroups(runId).ShouldBeEmpty();
    }

    [Fact]
    public async Task FuelProfile_StopsTheGuestDeterministically_AndNamesFuelInTheBreach()
    {
        var backend = new WasmBackend(TimeProvider.System, NullLogger<WasmBackend>.Instance);
        var plan = SpinningRun.Plan("run_fuel_" + Guid.NewGuid().ToString("N")[..12], wallTimeMs: 20_000, CpuTimeMs) is var p
            ? p with { Profile = p.Profile with { Fuel = 5_000_000 } }
            : null!;

        var result = await backend.ExecuteAsync(plan, Token);

        result.Status.ShouldBe(RunStatus.CpuLimit);
        var breach = result.LimitBreach.ShouldNotBeNull();
        breach.Limit.ShouldBe(LimitNames.Fuel);
        breach.Value.ShouldBe(5_000_000);
        breach.Observed.ShouldBeInRange(5_000_000, 5_000_010, "fuel runs out at the same instruction every time");
    }

    private static async Task<(RunResult? Result, TimeSpan Elapsed, string RunId)> RunAsync(IReadOnlyList<string> command)
    {
        var runId = "run_failing_" + Guid.NewGuid().ToString("N")[..12];
        var backend = new WasmBackend(TimeProvider.System, NullLogger<WasmBackend>.Instance, new WasmWorkerOptions { CommandOverride = command });
        var clock = Stopwatch.StartNew();
        var result = await backend.ExecuteAsync(SpinningRun.Plan(runId, WallTimeMs, CpuTimeMs), Token);
        return (result, clock.Elapsed, runId);
    }

    private static async Task<(RunResult? Result, TimeSpan Elapsed, string RunId, SandboxInfrastructureException Error)> RunExpectingFailureAsync(IReadOnlyList<string> command)
    {
        var runId = "run_failing_" + Guid.NewGuid().ToString("N")[..12];
        var backend = new WasmBackend(TimeProvider.System, NullLogger<WasmBackend>.Instance, new WasmWorkerOptions { CommandOverride = command });
        var clock = Stopwatch.StartNew();
        var error = await Should.ThrowAsync<SandboxInfrastructureException>(() => backend.ExecuteAsync(SpinningRun.Plan(runId, WallTimeMs, CpuTimeMs), Token));
        return (null, clock.Elapsed, runId, error);
    }
}
