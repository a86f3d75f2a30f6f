using System.Text;
using Sandbox.Core.Profiles;
using Sandbox.Wasm.Execution;
using Sandbox.Wasm.Tests.Differential;
using Sandbox.Wasm.Wasi;

namespace Sandbox.Wasm.Worker.Tests;

/// <summary>
/// The python-wasm guest captured at its gate and restored into a fresh engine in this process (no worker), as a warm
/// worker does: the restored guest runs the program; an altered or foreign snapshot is refused before anything runs.
/// </summary>
[Trait("Category", "Integration")]
public sealed class GuestSnapshotFileTests
{
    private static readonly Lazy<(Profile Profile, byte[] Bytes, WasmModule Module)> s_python = new(() =>
    {
        var profiles = ProfileLoader.LoadTree(Path.Join(GuestRequirement.RepositoryRoot, "images"), "profile.json");
        profiles.TryGet("python-wasm", out var profile).ShouldBeTrue();
        var bytes = File.ReadAllBytes(Path.Join(GuestRequirement.PythonGuest(), "python.wasm"));
        return (profile, bytes, new WasmEngine().Compile(bytes));
    });

    private static readonly Lazy<byte[]> s_snapshot = new(() => Take(Context()));

    private static byte[] Context() => GuestSnapshotFile.Context(s_python.Value.Bytes, "python-wasm"u8);

    private static WasiOptions Options(Func<WasiRunStart> gate)
    {
        var profile = s_python.Value.Profile;
        return new WasiOptions
        {
            Args = profile.Command,
            Environment = profile.Environment,
            MaxStdoutBytes = 1 << 20,
            MaxStderrBytes = 1 << 20,
            Tmp = new WasiTmpOptions { MaxBytes = 1 << 20, MaxFileBytes = 1 << 20 },
            Preopens = [.. profile.Preopens.Select(p => new WasiPreopen(p.Key, profile.ResolvePath(p.Value)))],
            Gate = gate,
        };
    }

    /// <summary>Runs CPython's start-up interpreted only and captures it at the gate (the open of /tmp/main.py).</summary>
    private static byte[] Take(byte[] context)
    {
        var engine = new WasmEngine();
        engine.Interpreter.CompileEnabled = false;
        WasmInstance? instance = null;
        WasiHost? host = null;
        byte[]? taken = null;
        host = new WasiHost(Options(() =>
        {
            var captured = InstanceSnapshot.Capture(instance!, out var why) ?? throw new InvalidOperationException(why);
            taken = GuestSnapshotFile.Write(captured, host!.CaptureState(out why) ?? throw new InvalidOperationException(why), context);
            throw new OperationCanceledException("captured");
        }));
        using (host)
        {
            var linker = new WasmLinker();
            host.Define(engine, linker);
            Should.Throw<OperationCanceledException>(() => engine.RunOnExecutionThread(() =>
            {
                instance = engine.Instantiate(s_python.Value.Module, linker);
                return instance.Invoke("_start");
            }));
        }

        return taken.ShouldNotBeNull();
    }

    /// <summary>Restores <paramref name="snapshot"/> into a fresh engine and runs <paramref name="code"/> as /tmp/main.py; stdout, stderr, exit code, and the process CPU from the snapshot's bytes to the guest's end.</summary>
    private static (string Stdout, string Stderr, int Exit, TimeSpan Elapsed) Restore(byte[] snapshot, string code)
    {
        var (stdout, stderr, exit, split) = RestoreTimed(snapshot, code, park: null);
        return (stdout, stderr, exit, split.Total);
    }

    /// <summary>
    /// CPU of each part of a restore: the context's digest, opening the snapshot (its body's digest and parse), instantiating,
    /// memory back up to the gated call, and the run from the gate to the guest's end (the park, between the last two, is
    /// not counted). <paramref name="Thread"/> is the execution thread's own CPU over the same parts: the process's also
    /// holds this test process's background JIT tiering, which a worker (ReadyToRun, tiering off) does not have.
    /// </summary>
    internal readonly record struct RestoreSplit(TimeSpan Context, TimeSpan Open, TimeSpan Instantiate, TimeSpan ToGate, TimeSpan Run, TimeSpan Thread)
    {
        public TimeSpan Total => Context + Open + Instantiate + ToGate + Run;

        public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Total.TotalMilliseconds:F1} (context {Context.TotalMilliseconds:F1}, open {Open.TotalMilliseconds:F1}, instantiate {Instantiate.TotalMilliseconds:F1}, to the gate {ToGate.TotalMilliseconds:F1}, run {Run.TotalMilliseconds:F1}; the thread's own {Thread.TotalMilliseconds:F1})");
    }

    [System.Runtime.InteropServices.DllImport("libc")]
#pragma warning disable SYSLIB1054 // A plain libc call on a long[]; LibraryImport would need unsafe code in this project.
    private static extern int clock_gettime(int clock, long[] time);
#pragma warning restore SYSLIB1054

    /// <summary>The calling thread's CPU, from CLOCK_THREAD_CPUTIME_ID (exact, where getrusage's per-thread figure lags by up to a tick); zero where that fails.</summary>
    private static TimeSpan ThreadCpu()
    {
        var time = new long[2];
        return clock_gettime(3, time) == 0 ? TimeSpan.FromTicks((time[0] * TimeSpan.TicksPerSecond) + (time[1] / 100)) : TimeSpan.Zero;
    }

    /// <summary>As <see cref="Restore"/>, timing each part; <paramref name="park"/> runs at the gate before the run is handed over, as a parked worker's wait does.</summary>
    private static (string Stdout, string Stderr, int Exit, RestoreSplit Split) RestoreTimed(byte[] snapshot, string code, Action<WasmModule>? park)
    {
        // As a restoring worker does: bodies are translated at their first call (a lazily translated module is one engine's).
        var engine = new WasmEngine(new WasmEngineOptions { LazyTranslation = true });
        var module = engine.Compile(s_python.Value.Bytes);
        TimeSpan context = default, open = default, instantiate = default, toGate = default, mark = default, thread = default, threadMark = default;
        using var host = new WasiHost(Options(() =>
        {
            toGate = Environment.CpuUsage.TotalTime - mark;
            thread = ThreadCpu() - threadMark;
            park?.Invoke(module);
            threadMark = ThreadCpu();
            mark = Environment.CpuUsage.TotalTime;
            return new WasiRunStart
            {
                Stdin = ReadOnlyMemory<byte>.Empty,
                Files = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal) { ["main.py"] = Encoding.UTF8.GetBytes(code) },
            };
        }));
        var linker = new WasmLinker();
        host.Define(engine, linker);

        // A worker restores once, in a heap without an earlier restore's garbage: a collection of that garbage inside the
        // timed parts (up to 0.2 s when it compacts a few earlier engines' translated modules) is this test's, not the restore's.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var exit = engine.RunOnExecutionThread(() =>
        {
            // Process CPU, not wall time: the machine is shared, and a restore is CPU-bound.
            threadMark = ThreadCpu();
            mark = Environment.CpuUsage.TotalTime;
            try
            {
                // The context hashes the 6.7 MB module (as the worker does for the module it was sent), the open the 4.6 MB body.
                var expected = Context();
                context = Environment.CpuUsage.TotalTime - mark;
                mark = Environment.CpuUsage.TotalTime;
                var (instance, inodes, _) = GuestSnapshotFile.Open(snapshot, expected, engine.Options.MaxMemoryPages);
                open = Environment.CpuUsage.TotalTime - mark;
                mark = Environment.CpuUsage.TotalTime;
                var fresh = engine.InstantiateForRestore(module, linker);
                instantiate = Environment.CpuUsage.TotalTime - mark;
                mark = Environment.CpuUsage.TotalTime;
                host.RestoreState(inodes);
                instance.Resume(fresh);
                return 0;
            }
            catch (WasiExitException e)
            {
                return e.ExitCode;
            }
            finally
            {
                thread += ThreadCpu() - threadMark;
            }
        });
        var run = Environment.CpuUsage.TotalTime - mark;
        return (Encoding.UTF8.GetString(host.Stdout.Span), Encoding.UTF8.GetString(host.Stderr.Span), exit, new RestoreSplit(context, open, instantiate, toGate, run, thread));
    }

    [Fact]
    public void Resume_PythonSnapshot_RunsTheProgramFromTheGate()
    {
        var snapshot = s_snapshot.Value;
        // The engine's own first-use costs, not the restore's: a worker runs the engine as ReadyToRun code with tiering
        // off, where this process starts each method at the JIT's first tier and optimises it after 30 calls (a restore
        // calls most of its path once: after one warm-up the digests alone took twice their optimised 0.4 ms), in the
        // background or, for the dispatch loop's on-stack replacement, on the restoring thread (0.2 s, once). So warm
        // up until three restores in a row, each followed by a pause for the background compiler, compile nothing.
        var warmUps = 0;
        for (var quiet = 0; warmUps < 150 && (warmUps < 40 || quiet < 3); warmUps++)
        {
            var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            RestoreTimed(snapshot, "print(0)", park: warmUps % 2 == 0 ? null : m => m.TranslatePending(CancellationToken.None));
            if (warmUps >= 40)
            {
                Thread.Sleep(200);
            }

            quiet = System.Runtime.JitInfo.GetCompiledMethodCount() == compiled ? quiet + 1 : 0;
        }

        var compiledBefore = System.Runtime.JitInfo.GetCompiledMethodCount();

        var splits = new List<RestoreSplit>();
        for (var i = 0; i < 5; i++)
        {
            var (stdout, stderr, exit, split) = RestoreTimed(snapshot, "print(1+1)", park: null);
            stdout.ShouldBe("2\n", stderr);
            exit.ShouldBe(0);
            splits.Add(split);
        }

        // As a parked worker does (ParkedTranslation): the bodies left are translated while it waits for the run.
        var parked = new List<RestoreSplit>();
        for (var i = 0; i < 5; i++)
        {
            var (stdout, stderr, exit, split) = RestoreTimed(snapshot, "print(1+1)", park: m => m.TranslatePending(CancellationToken.None));
            stdout.ShouldBe("2\n", stderr);
            exit.ShouldBe(0);
            parked.Add(split);
        }

        static string Median(List<RestoreSplit> s) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"median {s.Select(x => x.Total.TotalMilliseconds).Order().ElementAt(s.Count / 2):F1} (the thread's own {s.Select(x => x.Thread.TotalMilliseconds).Order().ElementAt(s.Count / 2):F1})");
        var compiledDuring = System.Runtime.JitInfo.GetCompiledMethodCount() - compiledBefore;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"after {warmUps} warm-up restores ({compiledDuring} methods JIT-compiled during the 10 below); snapshot {snapshot.Length / 1024} KiB; CPU ms of open + instantiate + restore + print(1+1):\n  {string.Join("\n  ", splits)}\n  {Median(splits)}\nwith the bodies translated in the park:\n  {string.Join("\n  ", parked)}\n  {Median(parked)}");
    }

    [Fact]
    public void Resume_TwoRestoresOfOneSnapshot_DrawTheirOwnRandomValuesAndKeepTheirOwnFiles()
    {
        const string Code = "import os, random\nprint(os.path.exists('/tmp/x'), random.random(), os.urandom(8).hex())\nopen('/tmp/x', 'w').write('1')\n";
        var a = Restore(s_snapshot.Value, Code);
        var b = Restore(s_snapshot.Value, Code);
        a.Stdout.ShouldStartWith("False ", customMessage: a.Stderr);
        b.Stdout.ShouldStartWith("False ", customMessage: b.Stderr);
        a.Stdout.ShouldNotBe(b.Stdout);
        a.Stdout.Split(' ')[1].ShouldNotBe(b.Stdout.Split(' ')[1], "random.random()");
        a.Stdout.Split(' ')[2].ShouldNotBe(b.Stdout.Split(' ')[2], "os.urandom");
    }

    [Theory]
    [InlineData(100)]
    [InlineData(-1)]
    public void Open_AlteredByte_IsRefusedBeforeAnythingRuns(int offsetFromBodyStart)
    {
        var altered = (byte[])s_snapshot.Value.Clone();
        var at = offsetFromBodyStart < 0 ? altered.Length - 1 : GuestSnapshotFile.HeaderBytes + offsetFromBodyStart;
        altered[at] ^= 0x20;
        Should.Throw<InvalidDataException>(() => GuestSnapshotFile.Open(altered, Context(), 4096)).Message.ShouldContain("digest");
    }

    [Fact]
    public void Open_SnapshotOfAnotherModuleOrProfile_IsRefused()
    {
        var otherModule = GuestSnapshotFile.Context([.. s_python.Value.Bytes, 0], "python-wasm"u8);
        var otherProfile = GuestSnapshotFile.Context(s_python.Value.Bytes, "python-wasm-2"u8);
        Should.Throw<InvalidDataException>(() => GuestSnapshotFile.Open(s_snapshot.Value, otherModule, 4096)).Message.ShouldContain("another");
        Should.Throw<InvalidDataException>(() => GuestSnapshotFile.Open(s_snapshot.Value, otherProfile, 4096)).Message.ShouldContain("another");
        Should.Throw<InvalidDataException>(() => GuestSnapshotFile.Open([.. "NOTASNAP"u8, .. s_snapshot.Value.AsSpan(8)], Context(), 4096)).Message.ShouldContain("magic");
    }

    [Fact]
    public void Open_MemoryPastTheCap_IsRefused()
    {
        // The body is intact and belongs here, but this engine may not hold that much memory.
        Should.Throw<InvalidDataException>(() => GuestSnapshotFile.Open(s_snapshot.Value, Context(), 16)).Message.ShouldContain("cap");
    }
}
