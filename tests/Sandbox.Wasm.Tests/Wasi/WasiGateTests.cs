using System.Diagnostics;
using System.Text;
using Sandbox.Wasm.Tests.Differential;
using Sandbox.Wasm.Wasi;

namespace Sandbox.Wasm.Tests.Wasi;

/// <summary>
/// <see cref="WasiOptions.Gate"/> on the real CPython guest, in the engine alone: the guest starts before its run is
/// known and stops at its first run-specific call; what it sees after the gate is exactly the run's.
/// </summary>
[Trait("Category", "Integration")]
public sealed class WasiGateTests
{
    private static readonly Dictionary<string, string> s_environment = new(StringComparer.Ordinal)
    {
        ["HOME"] = "/tmp", ["LANG"] = "C.UTF-8", ["PYTHONHOME"] = "/usr/local", ["PYTHONDONTWRITEBYTECODE"] = "1", ["TMPDIR"] = "/tmp",
    };

    private sealed record GateRun(int Gates, string Stdout, string Stderr, int ExitCode, TimeSpan BeforeGate, TimeSpan AfterGate, bool TmpWasEmptyAtGate);

    private static GateRun Run(Func<WasiRunStart> start)
    {
        var folder = GuestRequirement.PythonGuest();
        var engine = new WasmEngine(new WasmEngineOptions { MaxMemoryPages = 4096 });
        var module = engine.Compile(File.ReadAllBytes(Path.Join(folder, "python.wasm")));
        var gates = 0;
        var clock = Stopwatch.StartNew();
        TimeSpan beforeGate = default;
        WasiHost? host = null;
        var tmpEmpty = false;
        host = new WasiHost(new WasiOptions
        {
            Args = ["python.wasm", "-u", "-E", "-s", "-B", "/tmp/main.py"],
            Environment = s_environment,
            Tmp = new WasiTmpOptions { MaxBytes = 1024 * 1024, MaxFileBytes = 64 * 1024 },
            Preopens = [new WasiPreopen("/usr/local", Path.Join(folder, "usr-local"))],
            Gate = () =>
            {
                gates++;
                tmpEmpty = host!.TmpBytes == 0;
                beforeGate = clock.Elapsed;
                clock.Restart();
                return start();
            },
        });
        using (host)
        {
            var linker = new WasmLinker();
            host.Define(engine, linker);
            var exitCode = engine.RunOnExecutionThread(() =>
            {
                try
                {
                    engine.Instantiate(module, linker).Invoke("_start");
                    return 0;
                }
                catch (WasiExitException exit)
                {
                    return exit.ExitCode;
                }
            });
            return new GateRun(gates, Encoding.UTF8.GetString(host.Stdout.Span), Encoding.UTF8.GetString(host.Stderr.Span), exitCode, beforeGate, clock.Elapsed, tmpEmpty);
        }
    }

    private static Dictionary<string, ReadOnlyMemory<byte>> Files(params (string Path, string Content)[] files) =>
        files.ToDictionary(f => f.Path, f => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(f.Content), StringComparer.Ordinal);

    [Fact]
    public void Gate_CPython_OpensOnceAfterStartUpAndTheRunSeesOnlyItsOwnFilesAndStdin()
    {
        var run = Run(() => new WasiRunStart
        {
            Stdin = Encoding.UTF8.GetBytes("from stdin"),
            Files = Files(("main.py", "import os, sys\nprint(1 + 1, sorted(os.listdir('/tmp')), open('/tmp/d/in.txt').read(), sys.stdin.read())"), ("d/in.txt", "from a file")),
        });

        run.Gates.ShouldBe(1);
        run.TmpWasEmptyAtGate.ShouldBeTrue();
        run.ExitCode.ShouldBe(0, run.Stderr);
        run.Stdout.ShouldBe("2 ['d', 'main.py'] from a file from stdin\n");
        TestContext.Current.SendDiagnosticMessage($"CPython start-up before the gate {run.BeforeGate.TotalMilliseconds:F0} ms, the run after it {run.AfterGate.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public void Gate_FilesBreakingTheTmpCaps_AreRefusedAsTheRunsFault()
    {
        var refused = Should.Throw<WasiGateException>(() => Run(() => new WasiRunStart { Files = Files(("main.py", new string('x', 128 * 1024))) }));

        refused.Message.ShouldContain("main.py");
    }
}
