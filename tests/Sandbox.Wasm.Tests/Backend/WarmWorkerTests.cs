using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Wasm.Backend;
using Sandbox.Wasm.Tests.Differential;

namespace Sandbox.Wasm.Tests.Backend;

/// <summary>
/// Warm workers on real worker processes with the real python-wasm guest: each run takes a worker that started and
/// pre-initialised CPython ahead of time, and still gets its own process, cgroup and interpreter, its own random
/// source and hash seed, and the same deadline, CPU and memory limits as a cold run.
/// </summary>
[Trait("Category", "Integration")]
public sealed class WarmWorkerTests
{
    private static readonly TimeSpan s_fillTimeout = TimeSpan.FromSeconds(90);

    private static (RunPipeline Pipeline, WasmBackend Backend) Pipeline(int warmWorkers = 2, int maxWarmWorkers = 8)
    {
        var backend = new WasmBackend(TimeProvider.System, NullLogger<WasmBackend>.Instance, new WasmWorkerOptions { WarmWorkers = warmWorkers, MaxWarmWorkers = maxWarmWorkers });
        var pipeline = new RunPipeline(
            ProfileLoader.LoadTree(Path.Join(GuestRequirement.RepositoryRoot, "images"), "profile.json"),
            [backend],
            TimeProvider.System,
            NullLogger<RunPipeline>.Instance);
        return (pipeline, backend);
    }

    private static RunRequest Python(string code, LimitOverrides? limits = null) =>
        new() { Language = "python", Backend = BackendNames.Wasm, Code = code, Limits = limits };

    /// <summary>Runs once cold (which starts the profile's pool), then waits until <paramref name="count"/> workers are parked.</summary>
    private static async Task<RunResult> PrimeAsync(RunPipeline pipeline, WasmBackend backend, int count)
    {
        var first = await pipeline.RunAsync(Python("print('cold')"), TestContext.Current.CancellationToken);
        first.Status.ShouldBe(RunStatus.Ok, first.Message + "\n" + first.Stderr);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (backend.ParkedWorkerCount < count && waited.Elapsed < s_fillTimeout)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        backend.ParkedWorkerCount.ShouldBe(count);
        return first;
    }

    [Fact]
    public async Task Run_TwoWarmRuns_NeverSeeEachOthersFilesGlobalsOrRandomValues()
    {
        GuestRequirement.PythonGuest();
        var (pipeline, backend) = Pipeline();
        using var owned = backend;
        await PrimeAsync(pipeline, backend, 2);

        const string Code =
            "import builtins, os, random\n"
            + "seen = (os.path.exists('/tmp/x'), hasattr(builtins, 'leak'))\n"
            + "open('/tmp/x', 'w').write('mine'); builtins.leak = 1\n"
            + "print(seen, random.random(), os.urandom(16).hex(), hash('abc'))\n";
        var a = await pipeline.RunAsync(Python(Code), TestContext.Current.CancellationToken);
        var b = await pipeline.RunAsync(Python(Code), TestContext.Current.CancellationToken);

        backend.WarmHits.ShouldBe(2);
        a.Status.ShouldBe(RunStatus.Ok, a.Message + "\n" + a.Stderr);
        b.Status.ShouldBe(RunStatus.Ok, b.Message + "\n" + b.Stderr);
        var fieldsA = a.Stdout.Trim().Split(") ")[1].Split(' ');
        var fieldsB = b.Stdout.Trim().Split(") ")[1].Split(' ');
        a.Stdout.ShouldStartWith("(False, False) ");
        b.Stdout.ShouldStartWith("(False, False) ");
        fieldsA[0].ShouldNotBe(fieldsB[0], "random.random()");
        fieldsA[1].ShouldNotBe(fieldsB[1], "os.urandom");
        fieldsA[2].ShouldNotBe(fieldsB[2], "hash randomisation");
    }

    [Fact]
    public async Task Parked_WorkersWeighLeastOnTheCpu_TheirTranslatingAheadYieldsToClaimedRuns()
    {
        GuestRequirement.PythonGuest();
        var (pipeline, backend) = Pipeline(warmWorkers: 2);
        using var owned = backend;
        await PrimeAsync(pipeline, backend, 2);

        // cgroup v1 cpu.shares 2, or v2 cpu.weight 1: the least the kernel allows; a claim gives the worker back the default.
        backend.ParkedCpuWeights().ShouldAllBe(w => w == "2" || w == "1");
        backend.ParkedCpuWeights().Count.ShouldBe(2);
        var warm = await pipeline.RunAsync(Python("print(6*7)"), TestContext.Current.CancellationToken);
        warm.Stdout.ShouldBe("42\n", warm.Message + warm.Stderr);
        backend.WarmHits.ShouldBe(1);
    }

    [Fact]
    public void SetBackground_LowersAndRestoresTheCgroupsCpuWeight()
    {
        var layout = WorkerCgroup.Detect().ShouldNotBeNull("cgroups with memory, cpu and pids controllers");
        using var cgroup = WorkerCgroup.Create(layout, "weight-test-" + Guid.NewGuid().ToString("N")[..8], 64L * 1024 * 1024, 16);
        var initial = cgroup.CpuWeight();

        cgroup.SetBackground(true);
        var background = cgroup.CpuWeight();
        cgroup.SetBackground(false);

        initial.ShouldBeOneOf("1024", "100");
        background.ShouldBeOneOf("2", "1");
        cgroup.CpuWeight().ShouldBe(initial);
    }

    [Fact]
    public void Weight_AParkedWorkerYields_AClaimRaisesIt_AndOneClaimedBeforeItParksNeverYields()
    {
        var layout = WorkerCgroup.Detect().ShouldNotBeNull("cgroups with memory, cpu and pids controllers");
        using var refill = WorkerCgroup.Create(layout, "weight-test-" + Guid.NewGuid().ToString("N")[..8], 64L * 1024 * 1024, 16);
        using var forRun = WorkerCgroup.Create(layout, "weight-test-" + Guid.NewGuid().ToString("N")[..8], 64L * 1024 * 1024, 16);
        var full = refill.CpuWeight();

        var pooled = new WarmWorker();
        pooled.Started(refill);
        refill.CpuWeight().ShouldBe(full, "it prepares at the full weight: the next claim needs it ready");
        pooled.Parked();
        refill.CpuWeight().ShouldBeOneOf("2", "1");
        pooled.Claim();
        refill.CpuWeight().ShouldBe(full);

        // A worker restored for a run that is already waiting: claimed before it parks, its run must not run in the background.
        var restored = new WarmWorker();
        restored.Claim();
        restored.Started(forRun);
        restored.Parked();
        forRun.CpuWeight().ShouldBe(full);
    }

    [Fact]
    public async Task Run_WarmWorker_GetsTheRunsFilesAndStdinAndChargesOnlyTheRunsCpu()
    {
        GuestRequirement.PythonGuest();
        var (pipeline, backend) = Pipeline(warmWorkers: 1);
        using var owned = backend;
        var cold = await PrimeAsync(pipeline, backend, 1);

        var warm = await pipeline.RunAsync(
            Python("import sys\nprint(open('/tmp/data/in.txt').read(), sys.stdin.read())") with
            {
                Files = [new InputFile { Path = "data/in.txt", Content = "from a file" }],
                Stdin = "from stdin",
            },
            TestContext.Current.CancellationToken);

        backend.WarmHits.ShouldBe(1);
        warm.Status.ShouldBe(RunStatus.Ok, warm.Message + "\n" + warm.Stderr);
        warm.Stdout.ShouldBe("from a file from stdin\n");

        // The cold run paid for .NET's start, compiling python.wasm and CPython's start-up; the warm one only for its code.
        warm.Usage.CpuMs.ShouldBeLessThan(cold.Usage.CpuMs / 2, $"warm {warm.Usage.CpuMs} ms, cold {cold.Usage.CpuMs} ms");
    }

    [Theory]
    [InlineData("spin", "while True:\n    pass\n", RunStatus.Timeout, RunStatus.CpuLimit)]
    [InlineData("memory", "x = bytearray(400 * 1024 * 1024)\nprint(len(x))\n", RunStatus.MemoryLimit, RunStatus.MemoryLimit)]
    public async Task Run_HostileCodeOnAWarmWorker_IsStoppedByTheSameLimits(string attack, string code, RunStatus expected, RunStatus alsoExpected)
    {
        GuestRequirement.PythonGuest();
        var (pipeline, backend) = Pipeline(warmWorkers: 1);
        using var owned = backend;
        // The wall and CPU limits are the service's and start at the claim: a worker prepared under the profile's serves them.
        await PrimeAsync(pipeline, backend, 1);
        var limits = new LimitOverrides { WallTimeMs = 3000, CpuTimeMs = 2000 };

        var started = System.Diagnostics.Stopwatch.StartNew();
        var result = await pipeline.RunAsync(Python(code, limits), TestContext.Current.CancellationToken);

        backend.WarmHits.ShouldBe(1, attack);
        result.Status.ShouldBeOneOf([expected, alsoExpected], attack + ": " + result.Message + "\n" + result.Stderr);
        started.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(8), attack + ": the deadline runs from the claim and holds");
        result.Stdout.ShouldNotContain("419430400");
    }

    [Fact]
    public async Task Pool_ManyProfilesAndLimits_StaysWithinItsCapAndLeavesNothingOnDispose()
    {
        GuestRequirement.PythonGuest();
        var (pipeline, backend) = Pipeline(warmWorkers: 2, maxWarmWorkers: 3);
        using (backend)
        {
            // Three keys (different memory limits) asking for two each: the pool holds three workers at most.
            foreach (var memory in new[] { 64L, 96L, 128L })
            {
                var result = await pipeline.RunAsync(Python("print(1)", new LimitOverrides { MemoryBytes = memory * 1024 * 1024 }), TestContext.Current.CancellationToken);
                result.Status.ShouldBe(RunStatus.Ok, result.Message);
                backend.WarmWorkerCount.ShouldBeLessThanOrEqualTo(3);
            }

            backend.WarmWorkerCount.ShouldBe(3);
        }

        backend.WarmWorkerCount.ShouldBe(0);

        // Every warm worker is killed and its cgroup removed (once those still pre-initialising come to their end). Only
        // this backend's: other tests' pools (and any other service's) share the parent.
        var layout = WorkerCgroup.Detect().ShouldNotBeNull();
        var parent = Path.Join(layout.Memory, WorkerCgroup.ParentName);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        string[] left;
        do
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            left = Directory.Exists(parent) ? [.. Directory.EnumerateDirectories(parent, backend.WarmCgroupPrefix + "*")] : [];
        }
        while (left.Length > 0 && waited.Elapsed < s_fillTimeout);

        left.ShouldBeEmpty();
    }
}
