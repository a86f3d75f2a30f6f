using System.Diagnostics;
using System.Text;
using Sandbox.Wasm;
using Sandbox.Wasm.Wasi;

namespace Sandbox.Bench.Wasm;

/// <summary>Runs a case under our engine in this process: compile once, then a fresh engine and instance per run, as the backend does.</summary>
internal static class OurEngineRunner
{
    public static BenchTiming Measure(BenchCase benchCase, int runs)
    {
        var bytes = File.ReadAllBytes(benchCase.WasmPath);
        var compile = Stopwatch.StartNew();
        var module = new WasmEngine().Compile(bytes);
        var compileMs = compile.Elapsed.TotalMilliseconds;

        // The warm-up run is not timed: it pays for JIT-compiling the interpreter itself.
        Check(benchCase, RunOnce(module, benchCase));
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var run = Stopwatch.StartNew();
            RunOnce(module, benchCase);
            times.Add(run.Elapsed.TotalMilliseconds);
        }

        return new BenchTiming(compileMs, times, null);
    }

    private static string RunOnce(WasmModule module, BenchCase benchCase)
    {
        var engine = new WasmEngine();
        var host = new WasiHost(new WasiOptions
        {
            Args = [Path.GetFileNameWithoutExtension(benchCase.WasmPath), .. benchCase.Args],
            Preopens = [.. benchCase.Preopens.Select(p => new WasiPreopen(p.Key, p.Value))],
        });
        var linker = new WasmLinker();
        host.Define(engine, linker);
        var exitCode = engine.RunOnExecutionThread(() =>
        {
            var instance = engine.Instantiate(module, linker);
            try
            {
                instance.Invoke("_start");
                return 0;
            }
            catch (WasiExitException exit)
            {
                return exit.ExitCode;
            }
        });
        var stdout = Encoding.UTF8.GetString(host.Stdout.Span);
        return exitCode == 0 ? stdout : $"exit {exitCode}: {stdout}{Encoding.UTF8.GetString(host.Stderr.Span)}";
    }

    private static void Check(BenchCase benchCase, string stdout)
    {
        if (stdout != benchCase.Expected)
        {
            throw new InvalidOperationException($"{benchCase.Name} printed {stdout.Trim()}, expected {benchCase.Expected.Trim()}");
        }
    }
}
