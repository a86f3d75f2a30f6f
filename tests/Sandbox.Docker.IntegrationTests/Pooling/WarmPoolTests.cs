using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Docker.Client;
using Sandbox.Docker.IntegrationTests.Support;
using Sandbox.Docker.Pooling;
using Sandbox.Docker.Reaping;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.IntegrationTests.Pooling;

/// <summary>
/// The warm pool against the real daemon, each test with a pool of its own (its own backend and pipeline over the
/// fixture's client), under the runtime the suite runs: hits and misses, one run per container, accounting and the
/// deadline from the claim, cancellation of a claimed run, removal at shutdown and reaping after a crash.
/// </summary>
[Trait("Category", "Integration")]
public sealed partial class WarmPoolTests(SandboxFixture sandbox)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_WarmContainerIdle_ClaimsItAndALoweredLimitStartsCold()
    {
        await using var pooled = await PooledAsync(size: 1);
        await pooled.WaitIdleAsync(1);

        (await pooled.Backend.HasWarmAsync(pooled.Plan(Python("print(1+1)")), Token)).ShouldBe(true);
        var warm = await pooled.Pipeline.RunAsync(Python("print(1+1)"), Token);
        warm.Status.ShouldBe(RunStatus.Ok, warm.Message);
        warm.Stdout.ShouldBe("2\n");
        pooled.Pool.Hits.ShouldBe(1, $"misses {pooled.Pool.Misses}, idle {pooled.Pool.Stats()[0]}");

        await pooled.WaitIdleAsync(1);
        var lowered = Python("print(3)") with { Limits = new LimitOverrides { MemoryBytes = 128L * 1024 * 1024 } };
        (await pooled.Backend.HasWarmAsync(pooled.Plan(lowered), Token)).ShouldBe(false);
        var cold = await pooled.Pipeline.RunAsync(lowered, Token);
        cold.Status.ShouldBe(RunStatus.Ok, cold.Message);
        cold.Limits!.MemoryBytes.ShouldBe(128L * 1024 * 1024);
        pooled.Pool.Hits.ShouldBe(1);
        pooled.Pool.Misses.ShouldBe(1);
    }

    [Fact]
    public async Task Run_AnotherContainerStillIdle_ItsReplacementIsMadeAfterTheRunNotDuringIt()
    {
        await using var pooled = await PooledAsync(size: 2);
        await pooled.WaitIdleAsync(2);

        var run = pooled.Pipeline.RunAsync(Python("import time\ntime.sleep(4)\nprint('done')"), Token);
        await Task.Delay(3000, Token);

        // Three seconds is ten times what making one takes here: an eager refill would have made it.
        pooled.Pool.Stats().Sum(s => s.Idle).ShouldBe(1, "the replacement waits for the run's end while another is idle");
        var result = await run;
        result.Stdout.ShouldBe("done\n", result.Message + result.Stderr);
        await pooled.WaitIdleAsync(2);
        pooled.Pool.Hits.ShouldBe(1);
    }

    [Fact]
    public async Task Run_LastIdleClaimedWhileAnotherIsBeingMade_ItsReplacementWaitsForTheRunsEnd()
    {
        await using var pooled = await PooledAsync(size: 2);
        var hits = 0;
        var making = false;
        for (var attempt = 0; attempt < 5 && !making; attempt++)
        {
            await pooled.WaitIdleAsync(2);
            (await pooled.Pipeline.RunAsync(Python("print(1)"), Token)).Stdout.ShouldBe("1\n");
            hits++;
            // The short run's deferred replacement is made after its end, in a moment (tens of ms on a quick host): it is
            // watched closely, and the whole step is tried again if the replacement was done before it was seen.
            var watching = System.Diagnostics.Stopwatch.StartNew();
            while (!(making = pooled.Pool.Stats()[0].Making >= 1) && pooled.Pool.Stats()[0].Idle < 2 && watching.Elapsed < TimeSpan.FromSeconds(5))
            {
                await Task.Delay(1, Token);
            }
        }

        making.ShouldBeTrue("a replacement was seen being made");
        // The long run claims the one idle container while the other is being made.
        var run = pooled.Pipeline.RunAsync(Python("import time\ntime.sleep(4)\nprint('done')"), Token);
        await Task.Delay(3000, Token);

        // The one being made arrived (three seconds is ten times what it takes here); a third was not started beside the run.
        pooled.Pool.Stats()[0].ShouldBe(pooled.Pool.Stats()[0] with { Idle = 1, Making = 0 }, "one on its way keeps the pool from running dry");
        var result = await run;
        result.Stdout.ShouldBe("done\n", result.Message + result.Stderr);
        await pooled.WaitIdleAsync(2);
        pooled.Pool.Hits.ShouldBe(hits + 1);
    }

    [Fact]
    public async Task Run_LastIdleContainerClaimed_ItsReplacementIsMadeAtOnce()
    {
        await using var pooled = await PooledAsync(size: 1);
        await pooled.WaitIdleAsync(1);

        var run = pooled.Pipeline.RunAsync(Python("import time\ntime.sleep(4)\nprint('done')"), Token);
        while (!run.IsCompleted && pooled.Pool.Stats().Sum(s => s.Idle) == 0)
        {
            await Task.Delay(50, Token);
        }

        run.IsCompleted.ShouldBeFalse("an empty pool is refilled while its last container's run goes on");
        (await run).Stdout.ShouldBe("done\n");
    }

    [Fact]
    public async Task Run_TwentyRuns_NeverShareAContainerOrSeeAnotherRunsFiles()
    {
        await using var pooled = await PooledAsync(size: 2);
        await pooled.WaitIdleAsync(2);
        var claimed = new System.Collections.Concurrent.ConcurrentBag<string>();
        pooled.Pool.Claimed = claimed.Add;
        // The container's identity from inside where the runtime shows it (runc: the cgroup path names the container).
        const string Code = """
            import os, re
            seen = sorted(n for n in os.listdir('/tmp') if n.startswith('marker'))
            open('/tmp/marker-' + os.urandom(4).hex(), 'w').write('x')
            ids = re.findall(r'[0-9a-f]{64}', open('/proc/self/cgroup').read())
            print(ids[-1] if ids else '-')
            print('seen:' + ','.join(seen))
            """;

        var identities = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            var result = await pooled.Pipeline.RunAsync(Python(Code), Token);
            result.Status.ShouldBe(RunStatus.Ok, result.Message + result.Stderr);
            var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            lines[1].ShouldBe("seen:", $"run {i} saw another run's files");
            identities.Add(lines[0]);
        }

        // Seen from the host: every claim took a container no other run had; the rest started cold in new containers.
        claimed.Distinct(StringComparer.Ordinal).Count().ShouldBe(claimed.Count);
        ((long)claimed.Count).ShouldBe(pooled.Pool.Hits);
        (pooled.Pool.Hits + pooled.Pool.Misses).ShouldBe(20);
        pooled.Pool.Hits.ShouldBeGreaterThanOrEqualTo(10);
        if (SandboxFixture.Runtime == "runc")
        {
            identities.Distinct(StringComparer.Ordinal).Count().ShouldBe(20, string.Join("\n", identities));
            identities.ShouldContain(id => claimed.Contains(id));
        }
    }

    [Fact]
    public async Task Run_CompiledLanguage_ClaimsAWarmCompileContainerAndAWarmRunContainer()
    {
        await using var pooled = await PooledAsync(size: 1, shipped: "c");
        await pooled.WaitIdleAsync(2);
        var names = pooled.Pool.Stats().Select(s => s.Name).ToList();
        names.Count.ShouldBe(2);
        names.ShouldContain(names[0].Split(WarmPool.CompileSuffix)[0] + WarmPool.CompileSuffix);
        var claimed = new System.Collections.Concurrent.ConcurrentBag<string>();
        pooled.Pool.Claimed = claimed.Add;
        var request = new RunRequest { Language = "c", Profile = "c", Code = "#include <stdio.h>\nint main(void) { puts(\"warm\"); return 3; }\n" };

        var first = await pooled.Pipeline.RunAsync(request, Token);
        await pooled.WaitIdleAsync(2);
        var second = await pooled.Pipeline.RunAsync(request, Token);

        foreach (var result in new[] { first, second })
        {
            result.Status.ShouldBe(RunStatus.RuntimeError, result.Message + result.Stderr);
            result.ExitCode.ShouldBe(3);
            result.Stdout.ShouldBe("warm\n");
            result.Usage.CompileCpuMs.ShouldNotBeNull().ShouldBeGreaterThan(0);
        }

        // Both steps of both runs came from the pool, and no container served two steps.
        claimed.Count.ShouldBe(4);
        claimed.Distinct(StringComparer.Ordinal).Count().ShouldBe(4);
        pooled.Pool.Hits.ShouldBe(2);
        pooled.Pool.Misses.ShouldBe(0);
        (await sandbox.LeftoversAsync(first.RunId)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Run_ClaimedAfterIdling_ChargesNeitherIdleTimeNorIdleCpuAndTheDeadlineStartsAtTheClaim()
    {
        // A profile whose wall-clock limit is shorter than the container waits idle: a clock started at the container's
        // start would kill the program before it printed, or charge the idle seconds.
        var python = ProfileNamed(sandbox.ForRuntime(Python("")).Profile ?? "python");
        var shortProfile = python with { Name = python.Name + "-short", Limits = python.Limits with { WallTimeMs = 2000 } };
        await using var pooled = await PooledAsync(size: 1, profile: shortProfile);
        await pooled.WaitIdleAsync(1);
        await Task.Delay(TimeSpan.FromSeconds(3), Token);

        var quick = await pooled.Pipeline.RunAsync(Python("print('hi')") with { Profile = shortProfile.Name }, Token);
        quick.Status.ShouldBe(RunStatus.Ok, quick.Message);
        quick.Usage.WallMs.ShouldBeLessThan(1500);
        quick.Usage.CpuMs.ShouldBeLessThan(1000);
        pooled.Pool.Hits.ShouldBe(1);

        await pooled.WaitIdleAsync(1);
        await Task.Delay(TimeSpan.FromSeconds(3), Token);
        var slow = await pooled.Pipeline.RunAsync(Python("import time\nprint('started', flush=True)\ntime.sleep(30)") with { Profile = shortProfile.Name }, Token);
        slow.Status.ShouldBe(RunStatus.Timeout, slow.Message);
        slow.Stdout.ShouldBe("started\n");
        slow.Usage.WallMs.ShouldBeInRange(2000, 3500);
        pooled.Pool.Hits.ShouldBe(2);
    }

    [Fact]
    public async Task Run_ClaimedRunSpinning_IsKilledAtItsCpuLimit()
    {
        // Half a second of CPU within ten of wall clock: the CPU limit fires first even on a host this busy.
        var python = ProfileNamed(sandbox.ForRuntime(Python("")).Profile ?? "python");
        var spinProfile = python with { Name = python.Name + "-spin", Limits = python.Limits with { CpuTimeMs = 500, WallTimeMs = 10_000 } };
        await using var pooled = await PooledAsync(size: 1, profile: spinProfile);
        await pooled.WaitIdleAsync(1);
        await Task.Delay(TimeSpan.FromSeconds(1), Token);

        var spin = await pooled.Pipeline.RunAsync(Python("while True: pass") with { Profile = spinProfile.Name }, Token);

        pooled.Pool.Hits.ShouldBe(1);
        spin.Status.ShouldBe(RunStatus.CpuLimit, $"{spin.Message}; usage {spin.Usage}");
        spin.Usage.CpuMs.ShouldBeInRange(500, 1_500);
    }

    [Fact]
    public async Task Run_ClaimedRunCancelled_IsKilledAndItsContainerRemoved()
    {
        await using var pooled = await PooledAsync(size: 1);
        await pooled.WaitIdleAsync(1);
        var (plan, _) = pooled.Pipeline.Plan(Python("print('up', flush=True)\nwhile True: pass"));
        plan.ShouldNotBeNull();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var run = pooled.Pipeline.ExecuteAsync(plan, cancel.Token);
        await WaitUntilAsync(async () => (await ClaimedAsync(plan.RunId)).Count > 0);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(300));

        await Should.ThrowAsync<OperationCanceledException>(run);
        pooled.Pool.Hits.ShouldBe(1);
        (await ClaimedAsync(plan.RunId)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Recover_ClaimedContainerOfADeadService_IsFoundByItsNameAndTimedFromTheClaim()
    {
        var python = ProfileNamed(sandbox.ForRuntime(Python("")).Profile ?? "python");
        var shortProfile = python with { Name = python.Name + "-short", Limits = python.Limits with { WallTimeMs = 2000 } };
        await using var pooled = await PooledAsync(size: 1, profile: shortProfile);
        await pooled.WaitIdleAsync(1);
        await Task.Delay(TimeSpan.FromSeconds(3), Token); // idle past its wall-clock limit: a clock from its start would be wrong

        // A claim as the runner makes it, then the service "dies": the program runs on with nobody reading it.
        var runId = "run_pool" + Guid.NewGuid().ToString("N")[..16];
        var step = pooled.Pool.TemplateOf(shortProfile.Name).ShouldNotBeNull() with { RunId = runId };
        var warm = pooled.Pool.TryClaim(step).ShouldNotBeNull();
        await sandbox.Docker.RenameContainerAsync(warm.Id, ClaimName.Format(runId, TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds()), Token);
        // As the runner writes it: the files, then (with artifacts on) the outputs step's nonce line, then the program's stdin.
        byte[] payload = [.. Execution.FilePayload.Encode(
            [new Execution.PayloadFile(shortProfile.SourceFile, "import time\nprint('ticking', flush=True)\ntime.sleep(60)\n"u8.ToArray(), 0b110_100_100)]),
            .. shortProfile.Artifacts.MaxFiles > 0 ? Artifacts.OutputsCommand.NonceLine(Artifacts.OutputsCommand.NewNonce()) : []];
        await warm.Attached.WriteStdinAsync(payload, Token);
        await warm.Attached.CloseStdinAsync(Token);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var recovery = new Sandbox.Docker.Recovery.ContainerRecovery(sandbox.Docker, sandbox.Meter, TimeProvider.System, NullLogger.Instance);
        var found = (await recovery.RecoverAsync(id => id == runId, Token)).ShouldHaveSingleItem();
        await warm.Attached.DisposeAsync();

        var result = found.Result.ShouldNotBeNull();
        result.Status.ShouldBe(RunStatus.Timeout, result.Message);
        result.Usage.WallMs.ShouldBeInRange(1_500, 3_500);
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(6));
        (await ClaimedAsync(runId)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Repin_ProfileTagMovesToARebuiltImage_PoolFollowsAndRunsClaimAgain()
    {
        var python = ProfileNamed(sandbox.ForRuntime(Python("")).Profile ?? "python");
        var tag = "sandbox-test/repin:" + Guid.NewGuid().ToString("N")[..12];
        (await DockerCliAsync(null, "tag", python.Image, tag)).ShouldBe(0);
        try
        {
            var repin = python with { Name = python.Name + "-repin", Image = tag };
            await using var pooled = await PooledAsync(size: 1, profile: repin, repinInterval: TimeSpan.FromSeconds(1));
            await pooled.WaitIdleAsync(1);
            var old = pooled.Pool.IdleIds().ShouldHaveSingleItem();

            // What `make images` does to a profile's tag: it now names another image (here the same one plus a label).
            (await DockerCliAsync($"FROM {python.Image}\nLABEL io.sandbox.test.repin={tag}\n", "build", "-q", "-t", tag, "-")).ShouldBe(0);

            await WaitUntilAsync(() => Task.FromResult(pooled.Pool.IdleIds() is [var id] && id != old));
            await WaitUntilAsync(async () => (await PoolContainersAsync()).All(c => c.Id != old));
            var run = await pooled.Pipeline.RunAsync(Python("print(7)") with { Profile = repin.Name }, Token);
            run.Status.ShouldBe(RunStatus.Ok, run.Message);
            run.Stdout.ShouldBe("7\n");
            pooled.Pool.Hits.ShouldBe(1, "the run pins the rebuilt image, and the pool now holds containers of it");
        }
        finally
        {
            await DockerCliAsync(null, "rmi", "-f", tag);
        }
    }

    [Fact]
    public async Task StopPool_IdleContainers_AreRemoved()
    {
        var pooled = await PooledAsync(size: 2);
        await pooled.WaitIdleAsync(2);
        // Its own: a suite run with the pool on (SANDBOX_TEST_WARM_POOL) keeps the fixture's pool beside it, under the same label.
        var ids = pooled.Pool.IdleIds();
        ids.Count.ShouldBe(2);
        ids.ShouldBeSubsetOf((await PoolContainersAsync()).Select(c => c.Id));

        await pooled.DisposeAsync();

        (await PoolContainersAsync()).Select(c => c.Id).Intersect(ids).ShouldBeEmpty();
    }

    [Fact]
    public async Task ReapOnce_PoolOfADeadService_IsRemovedAndALivePoolIsKept()
    {
        await using var live = await PooledAsync(size: 1);
        await live.WaitIdleAsync(1);
        var dead = await PooledAsync(size: 1);
        await dead.WaitIdleAsync(1);
        var deadIds = dead.Pool.IdleIds();
        var liveIds = live.Pool.IdleIds();

        // What a crash does: the service's end of every attach connection closes, and nothing is removed.
        await dead.Pool.AbandonAsync();
        await WaitUntilAsync(async () => (await PoolContainersAsync()).Where(c => deadIds.Contains(c.Id)).All(c => c.State != "running"));
        var reaper = new ContainerReaper(sandbox.Docker, sandbox.Meter, TimeProvider.System, NullLogger<ContainerReaper>.Instance);
        await reaper.ReapOnceAsync(Token);

        var left = (await PoolContainersAsync()).Select(c => c.Id).ToList();
        left.ShouldNotContain(id => deadIds.Contains(id));
        left.ShouldContain(id => liveIds.Contains(id));
    }

    private Profile ProfileNamed(string name) => sandbox.Profiles.TryGet(name, out var profile) ? profile : throw new InvalidOperationException("no profile " + name);

    private static RunRequest Python(string code) => new() { Language = "python", Code = code };

    private async Task<IReadOnlyList<ContainerSummary>> PoolContainersAsync() =>
        [.. (await sandbox.Docker.ListContainersAsync([SandboxLabels.Pool + "=" + WarmPool.Instance], CancellationToken.None))];

    private async Task<IReadOnlyList<ContainerSummary>> ClaimedAsync(string runId) =>
        [.. (await PoolContainersAsync()).Where(c => ClaimName.Parse(c)?.RunId == runId)];

    /// <summary>Runs the docker CLI with <paramref name="stdin"/> (or none) and returns its exit code.</summary>
    private static async Task<int> DockerCliAsync(string? stdin, params string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo("docker") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        await process.StandardInput.WriteAsync(stdin ?? "");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(Token);
        var error = process.StandardError.ReadToEndAsync(Token);
        await process.WaitForExitAsync(Token);
        TestContext.Current.TestOutputHelper?.WriteLine($"docker {string.Join(' ', arguments)}: {await output}{await error}");
        return process.ExitCode;
    }

    private async Task<Pooled> PooledAsync(int size, Profile? profile = null, TimeSpan? repinInterval = null, string? shipped = null, IDockerClient? client = null)
    {
        await DockerRequirement.EnsureAvailableAsync(sandbox.Docker);
        var docker = DockerSandbox.Create(client ?? sandbox.RawClient, TimeProvider.System, NullLoggerFactory.Instance);
        // A test's own profile (copied from python, which names crun) runs under the runtime this run of the suite tests:
        // the fixture maps only the shipped profiles' requests between runc and crun.
        if (profile is { Runtime: RuntimeNames.Runc or RuntimeNames.Crun } && SandboxFixture.Runtime is RuntimeNames.Runc or RuntimeNames.Crun)
        {
            profile = profile with { Runtime = SandboxFixture.Runtime };
        }

        // A shipped profile other than python is pooled as the suite's runtime would run its requests.
        var request = sandbox.ForRuntime(shipped is null ? Python("") : new RunRequest { Language = ProfileNamed(shipped).Language, Profile = shipped, Code = "" });
        var chosen = profile ?? ProfileNamed(request.Profile ?? "python");
        var profiles = profile is null ? sandbox.Profiles : ProfileSet.Create(sandbox.Profiles.All.Append(profile).ToDictionary(p => p.Name, StringComparer.Ordinal));
        var key = request.Runtime is { } runtime && runtime != chosen.Runtime ? chosen.Name + "@" + runtime : chosen.Name;
        var pool = await docker.Backend.StartPoolAsync(profiles.All, new WarmPoolOptions { Sizes = new() { [key] = size }, RepinInterval = repinInterval ?? TimeSpan.FromSeconds(10) }, NullLogger.Instance, Token);
        return new Pooled(docker.Backend, pool, new RunPipeline(profiles, [docker.Backend], TimeProvider.System, NullLogger<RunPipeline>.Instance), sandbox);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            DateTime.UtcNow.ShouldBeLessThan(until, "condition not met within 30 s");
            await Task.Delay(100, Token);
        }
    }

    private sealed class Pooled(Execution.DockerBackend backend, WarmPool pool, RunPipeline pipeline, SandboxFixture sandbox) : IAsyncDisposable
    {
        public Execution.DockerBackend Backend => backend;

        public WarmPool Pool => pool;

        public PooledPipeline Pipeline { get; } = new(pipeline, sandbox);

        public RunPlan Plan(RunRequest request) => Pipeline.Plan(request).Plan ?? throw new InvalidOperationException("no plan");

        public async Task WaitIdleAsync(int count) =>
            await WaitUntilAsync(() => Task.FromResult(pool.Stats().Sum(s => s.Idle) >= count));

        public async ValueTask DisposeAsync() => await backend.StopPoolAsync();
    }

    /// <summary>The pool's pipeline, with the suite's runtime applied to every request.</summary>
    private sealed class PooledPipeline(RunPipeline pipeline, SandboxFixture sandbox)
    {
        public Task<RunResult> RunAsync(RunRequest request, CancellationToken cancellationToken) => pipeline.RunAsync(sandbox.ForRuntime(request), cancellationToken);

        public (RunPlan? Plan, IReadOnlyList<FieldError> Errors) Plan(RunRequest request) => pipeline.Plan(sandbox.ForRuntime(request));

        public Task<RunResult> ExecuteAsync(RunPlan plan, CancellationToken cancellationToken) => pipeline.ExecuteAsync(plan, cancellationToken);
    }
}
