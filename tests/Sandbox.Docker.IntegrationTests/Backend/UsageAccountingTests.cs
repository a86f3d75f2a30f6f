using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Docker.IntegrationTests.Support;

namespace Sandbox.Docker.IntegrationTests.Backend;

/// <summary>
/// The usage a result reports is what the program did, under each runtime: the runtimes set up the run's cgroups
/// themselves (crun, unlike runc, is C and writes them its own way), and the meter reads the kernel's counters of
/// the run's parent cgroup, so a runtime that put the container somewhere else would read as zero.
/// </summary>
[Trait("Category", "Integration")]
public sealed class UsageAccountingTests(SandboxFixture sandbox)
{
    private const long MiB = 1024 * 1024;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_KnownCpuAndMemory_UsageReadsWhatTheProgramDid()
    {
        // 96 MiB written byte by byte (a bytearray product touches every page), then 600 ms of the process's own CPU time.
        const string code = """
            import time
            block = bytearray(b'x') * (96 << 20)
            start = time.process_time()
            while time.process_time() - start < 0.6:
                pass
            print(len(block) >> 20)
            """;
        var result = await sandbox.RunAsync(new RunRequest { Language = "python", Code = code }, Ct);

        result.Status.ShouldBe(RunStatus.Ok, result.Message + result.Stderr);
        result.Stdout.ShouldBe("96\n");
        result.Runtime.ShouldBe(SandboxFixture.Runtime);
        // gVisor's own clock for the process's CPU time, which time.process_time() reads, runs ahead of the host's count of
        // the sandbox's CPU: 568-614 ms for this burn on a busy host (docker run --runtime runsc, 2026-12-07). A cold run's
        // start-up hides it; a warm claim (SANDBOX_TEST_WARM_POOL) counts from the claim and shows it.
        var least = SandboxFixture.Runtime == RuntimeNames.Runsc ? 450 : 600;
        result.Usage.CpuMs.ShouldBeInRange(least, 600 + 2500, "the run's cgroup counts the program's CPU time, plus the interpreter's start");
        result.Usage.PeakMemoryBytes.ShouldBeInRange(96 * MiB, 96 * MiB + 160 * MiB, "the run's cgroup saw the 96 MiB block, and not much more");
    }

    [Fact]
    public async Task Run_OverTheMemoryLimit_IsKilledByTheKernelWithSigkill()
    {
        var limit = 64 * MiB;
        var result = await sandbox.RunAsync(new RunRequest
        {
            Language = "python",
            Code = "x = []\nwhile True: x.append(bytearray(b'x') * (8 << 20))",
            Limits = new LimitOverrides { MemoryBytes = limit },
        }, Ct);

        result.Status.ShouldBe(RunStatus.MemoryLimit, result.Message + result.Stderr);
        result.Runtime.ShouldBe(SandboxFixture.Runtime);
        // The container exits 137 (128 + SIGKILL from the kernel's OOM killer); the result reports that as the signal.
        result.Signal.ShouldBe(9);
        result.ExitCode.ShouldBeNull();
        var breach = result.LimitBreach.ShouldNotBeNull();
        breach.Limit.ShouldBe(LimitNames.MemoryBytes);
        breach.Observed.ShouldBeGreaterThanOrEqualTo(limit);
        result.Usage.PeakMemoryBytes.ShouldBeGreaterThanOrEqualTo(limit - MiB, "the peak read from the cgroup reached the limit");
        (await sandbox.LeftoversAsync(result.RunId)).ShouldBeEmpty();
    }
}
