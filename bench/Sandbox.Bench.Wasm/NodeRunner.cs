using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Sandbox.Bench.Wasm;

/// <summary>
/// Runs a case under Node's V8 through the differential tests' run-wasi.mjs: once plainly to check the output
/// and time the whole process, then once with --repeat, which reports in-process compile and run times.
/// </summary>
internal static class NodeRunner
{
    public static BenchTiming Measure(string node, string runner, BenchCase benchCase, int runs, int warmups)
    {
        var process = Stopwatch.StartNew();
        var (stdout, stderr, exitCode) = Run(node, runner, benchCase, repeat: 0);
        var processMs = process.Elapsed.TotalMilliseconds;
        if (exitCode != 0 || stdout != benchCase.Expected)
        {
            throw new InvalidOperationException($"{benchCase.Name} under node: exit {exitCode}, printed {stdout.Trim()} {stderr.Trim()}");
        }

        // More runs than measured: the first ones warm V8's tiers up, like our untimed warm-up runs.
        // Node 20 here crashes now and then inside V8 (SIGSEGV or SIGTRAP in its garbage collector's threads) after a few
        // instances of a large module; such a run is tried again, up to three times in all, and a run that still crashes
        // is reported with its exit code. Only a crash is retried: a wrong answer or an error is not.
        var (json, jsonErr, jsonExit) = Run(node, runner, benchCase, repeat: runs + warmups);
        for (var attempt = 1; attempt < 3 && jsonExit >= 128; attempt++)
        {
            (json, jsonErr, jsonExit) = Run(node, runner, benchCase, repeat: runs + warmups);
        }

        if (jsonExit != 0)
        {
            throw new InvalidOperationException($"{benchCase.Name} under node --repeat: exit {jsonExit}: {jsonErr.Trim().Split('\n')[0]}");
        }

        using var doc = JsonDocument.Parse(json);
        var compileMs = doc.RootElement.GetProperty("compileMs").GetDouble();
        var times = doc.RootElement.GetProperty("runsMs").EnumerateArray().Skip(warmups).Select(e => e.GetDouble()).ToArray();
        var cpu = doc.RootElement.GetProperty("cpuMs").EnumerateArray().Skip(warmups).Select(e => e.GetDouble()).ToArray();
        return new BenchTiming(compileMs, times, processMs) { CpuMs = cpu };
    }

    private static (string Stdout, string Stderr, int ExitCode) Run(string node, string runner, BenchCase benchCase, int repeat)
    {
        var start = new ProcessStartInfo(node)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--no-warnings");
        // This machine's Node 20 crashed inside V8's parallel garbage collector (SIGSEGV) on every --repeat of the 16 MiB
        // hash kernel; with the collector on the main thread it does not. A wasm kernel's memory is not on the JS heap, so
        // the collector barely runs either way (sha256 and primes took the same CPU with and without the flag).
        start.ArgumentList.Add("--single-threaded-gc");
        start.ArgumentList.Add(runner);
        foreach (var (guestPath, hostPath) in benchCase.Preopens)
        {
            start.ArgumentList.Add("--dir");
            start.ArgumentList.Add($"{guestPath}={hostPath}");
        }

        if (repeat > 0)
        {
            start.ArgumentList.Add("--repeat");
            start.ArgumentList.Add(repeat.ToString(CultureInfo.InvariantCulture));
        }

        start.ArgumentList.Add(benchCase.WasmPath);
        foreach (var arg in benchCase.Args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (stdout, stderr.GetAwaiter().GetResult(), process.ExitCode);
    }

    /// <summary>The <c>node</c> executable on PATH, or null.</summary>
    public static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "node"))
            .FirstOrDefault(File.Exists);
}
