using System.Diagnostics;
using System.Text;
using Sandbox.Wasm;
using Sandbox.Wasm.Wasi;

namespace Sandbox.Bench.Wasm;

/// <summary>Runs a case under our engine in this process: compile once, then a fresh engine and instance per run, as the backend does.</summary>
internal static class OurEngineRunner
{
    public static BenchTiming Measure(BenchCase benchCase, int runs, int warmups, WasmEngineOptions options)
    {
        var bytes = File.ReadAllBytes(benchCase.WasmPath);
        var compile = Stopwatch.StartNew();
        var module = new WasmEngine(options).Compile(bytes);
        var compileMs = compile.Elapsed.TotalMilliseconds;

        // The warm-up run is not in the median: it pays for JIT-compiling the engine itself and, in the IL tier,
        // for compiling each called guest function (kept on the module, so later runs reuse it). It is reported
        // as "first" (with the compile time) because a one-shot run pays exactly that.
        var first = Stopwatch.StartNew();
        Check(benchCase, RunOnce(module, benchCase, options));
        var firstMs = compileMs + first.Elapsed.TotalMilliseconds;
        for (var i = 1; i < warmups; i++)
        {
            RunOnce(module, benchCase, options);
        }

        var times = new List<double>();
        var cpu = new List<double>();
        using var self = Process.GetCurrentProcess();
        for (var i = 0; i < runs; i++)
        {
            self.Refresh();
            var cpuBefore = self.TotalProcessorTime;
            var run = Stopwatch.StartNew();
            RunOnce(module, benchCase, options);
            times.Add(run.Elapsed.TotalMilliseconds);
            self.Refresh();
            cpu.Add((self.TotalProcessorTime - cpuBefore).TotalMilliseconds);
        }

        return new BenchTiming(compileMs, times, null, firstMs) { CpuMs = cpu };
    }

    private static string RunOnce(WasmModule module, BenchCase benchCase, WasmEngineOptions options)
    {
        var engine = new WasmEngine(options);
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
