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
    public static BenchTiming Measure(string node, string runner, BenchCase benchCase, int runs)
    {
        var process = Stopwatch.StartNew();
        var (stdout, stderr, exitCode) = Run(node, runner, benchCase, repeat: 0);
        var processMs = process.Elapsed.TotalMilliseconds;
        if (exitCode != 0 || stdout != benchCase.Expected)
        {
            throw new InvalidOperationException($"{benchCase.Name} under node: exit {exitCode}, printed {stdout.Trim()} {stderr.Trim()}");
        }

        // One more run than measured: the first warms V8's tiers up, like our untimed warm-up run.
        var (json, jsonErr, jsonExit) = Run(node, runner, benchCase, repeat: runs + 1);
        if (jsonExit != 0)
        {
            throw new InvalidOperationException($"{benchCase.Name} under node --repeat: exit {jsonExit}: {jsonErr.Trim()}");
        }

        using var doc = JsonDocument.Parse(json);
        var compileMs = doc.RootElement.GetProperty("compileMs").GetDouble();
        var times = doc.RootElement.GetProperty("runsMs").EnumerateArray().Skip(1).Select(e => e.GetDouble()).ToArray();
        var cpu = doc.RootElement.GetProperty("cpuMs").EnumerateArray().Skip(1).Select(e => e.GetDouble()).ToArray();
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
