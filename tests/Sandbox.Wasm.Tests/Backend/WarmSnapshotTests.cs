using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Wasm.Backend;
using Sandbox.Wasm.Tests.Differential;

namespace Sandbox.Wasm.Tests.Backend;

/// <summary>
/// Warm workers restored from a snapshot of the real python-wasm guest, on real worker processes: each run still has
/// its own process, and runs restored from one snapshot never share random values or files.
/// </summary>
[Trait("Category", "Integration")]
public sealed class WarmSnapshotTests
{
    private static readonly TimeSpan s_fillTimeout = TimeSpan.FromSeconds(90);

    private static (RunPipeline Pipeline, WasmBackend Backend) Pipeline(WasmWorkerOptions options)
    {
        var backend = new WasmBackend(TimeProvider.System, NullLogger<WasmBackend>.Instance, options);
        var pipeline = new RunPipeline(
            ProfileLoader.LoadTree(Path.Join(GuestRequirement.RepositoryRoot, "images"), "profile.json"),
            [backend],
            TimeProvider.System,
            NullLogger<RunPipeline>.Instance);
        return (pipeline, backend);
    }

    private static RunRequest Python(string code) => new() { Language = "python", Backend = BackendNames.Wasm, Code = code };

    private static async Task WaitParkedAsync(WasmBackend backend, int count)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (backend.ParkedWorkerCount < count && waited.Elapsed < s_fillTimeout)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        backend.ParkedWorkerCount.ShouldBe(count);
    }

    [Fact]
    public async Task Run_RestoredFromOneSnapshot_NeverSeeEachOthersRandomValuesOrFiles()
    {
        GuestRequirement.PythonGuest();
        var (pipeline, backend) = Pipeline(new WasmWorkerOptions { WarmWorkers = 1 });
        using var owned = backend;
        const string Code =
            "import sys\n"
            + "had_random = 'random' in sys.modules\n"
            + "import builtins, os, random\n"
            + "seen = (os.path.exists('/tmp/x'), hasattr(builtins, 'leak'))\n"
            + "open('/tmp/x', 'w').write('mine'); builtins.leak = 1\n"
            + "print(seen, had_random, random.random(), os.urandom(16).hex(), hash('abc'))\n";

        var results = new List<RunResult>();
        for (var i = 0; i < 4; i++)
        {
            if (i > 0)
            {
                await WaitParkedAsync(backend, 1);
            }

            results.Add(await pipeline.RunAsync(Python(Code), TestContext.Current.CancellationToken));
        }

        foreach (var r in results)
        {
            r.Status.ShouldBe(RunStatus.Ok, r.Message + "\n" + r.Stderr);
            r.Stdout.ShouldStartWith("(False, False) ");
        }

        // Run 0 is cold, run 1 takes the worker that captured the snapshot, runs 2 and 3 restored it.
        backend.WarmRestored.ShouldBeGreaterThanOrEqualTo(2);
        var fields = results.Select(r => r.Stdout.Trim().Split(") ")[1].Split(' ')).ToList();
        fields[2][1].ShouldNotBe(fields[3][1], "random.random() of two runs restored from one snapshot");
        fields[2][2].ShouldNotBe(fields[3][2], "os.urandom of two runs restored from one snapshot");

        // CPython's str hash secret is drawn once, at start-up, and interned strings keep hashes made with it: one
        // snapshot generation shares it (bounded by SnapshotMaxRuns and SnapshotMaxAge; see src/Sandbox.Wasm/README.md).
        fields[2][3].ShouldBe(fields[3][3], "hash('abc') within one generation");
        fields[1][3].ShouldNotBe(fields[0][3], "hash('abc') of a cold run and the worker that took the snapshot");
    }

    [Fact]
    public async Task Refill_AlteredSnapshot_IsRefusedDroppedAndTakenAgain() =>
        await RefusedDroppedAndTakenAgainAsync(taken =>
        {
            // One bit of guest memory flipped where the pool keeps it (the body starts with the memory; the module image
            // follows): the next refill sends exactly that to its worker.
            taken[taken.Length / 10] ^= 0x01;
        });

    [Fact]
    public async Task Refill_ModuleImageOfAnotherModule_IsRefusedThoughTheSnapshotsDigestHolds() =>
        await RefusedDroppedAndTakenAgainAsync(taken =>
        {
            // The taking worker wrote its module, decoded and translated, into the snapshot. Its binding altered, and the
            // snapshot resealed so its own digest holds: only the image's check can refuse it, so a refusal shows that a
            // restoring worker reads its module from the image (and believes no image that is not this module's).
            var image = taken.AsSpan().IndexOf(Sandbox.Wasm.Execution.ModuleImage.Magic);
            image.ShouldBeGreaterThan(0, "the snapshot carries a module image");
            (taken.Length - image).ShouldBeGreaterThan(File.ReadAllBytes(Path.Join(GuestRequirement.PythonGuest(), "python.wasm")).Length, "every body translated");
            taken[image + 8] ^= 0x01;
            Sandbox.Wasm.Worker.GuestSnapshotFile.Seal(taken);
        });

    /// <summary>
    /// Takes a snapshot, <paramref name="alter"/>s it where the pool keeps it, and checks that the next refill's worker
    /// refuses it: dropped by the pool, nothing restored from it, and a new one taken and restored from afterwards.
    /// </summary>
    private static async Task RefusedDroppedAndTakenAgainAsync(Action<byte[]> alter)
    {
        GuestRequirement.PythonGuest();
        var (pipeline, backend) = Pipeline(new WasmWorkerOptions { WarmWorkers = 1 });
        using var owned = backend;
        var pool = backend.WarmPool.ShouldNotBeNull();
        (await pipeline.RunAsync(Python("print('cold')"), TestContext.Current.CancellationToken)).Status.ShouldBe(RunStatus.Ok);
        await WaitParkedAsync(backend, 1);
        var taken = pool.SnapshotBytes.ShouldHaveSingleItem();

        alter(taken);
        (await pipeline.RunAsync(Python("print('warm')"), TestContext.Current.CancellationToken)).Stdout.ShouldBe("warm\n");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while ((pool.SnapshotCount > 0 || pool.Count > 0) && waited.Elapsed < s_fillTimeout)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        // Refused by the worker (it never parked), dropped by the pool; nothing restored it.
        pool.SnapshotCount.ShouldBe(0);
        pool.Count.ShouldBe(0);
        backend.WarmRestored.ShouldBe(0);

        // The next run starts cold and its refill takes a new snapshot, which the one after restores.
        (await pipeline.RunAsync(Python("print(1+1)"), TestContext.Current.CancellationToken)).Stdout.ShouldBe("2\n");
        await WaitParkedAsync(backend, 1);
        pool.SnapshotBytes.ShouldHaveSingleItem().ShouldNotBeSameAs(taken);
        (await pipeline.RunAsync(Python("import json; print(json.dumps([3]))"), TestContext.Current.CancellationToken)).Stdout.ShouldBe("[3]\n");
        await WaitParkedAsync(backend, 1);
        backend.WarmRestored.ShouldBe(1);
    }

    [Fact]
    public async Task Run_NoWarmWorkerFree_RestoresOneForTheRunInsteadOfStartingCold()
    {
        GuestRequirement.PythonGuest();
        var (pipeline, backend) = Pipeline(new WasmWorkerOptions { WarmWorkers = 1 });
        using var owned = backend;
        (await pipeline.RunAsync(Python("print('cold')"), TestContext.Current.CancellationToken)).Status.ShouldBe(RunStatus.Ok);
        await WaitParkedAsync(backend, 1);

        // One parked worker, three runs at once: one claims it, the other two find the pool empty.
        var runs = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => pipeline.RunAsync(Python($"print({i} * 7)"), TestContext.Current.CancellationToken)));

        runs.Select(r => r.Stdout).Order().ShouldBe(["0\n", "14\n", "7\n"]);
        backend.WarmHits.ShouldBe(1);
        backend.WarmRestored.ShouldBeGreaterThanOrEqualTo(2, "the two runs that found no warm worker each restored one");
    }
}
