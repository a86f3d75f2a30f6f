using System.Diagnostics;
using System.Reflection;
using Sandbox.Wasm;
using Sandbox.Wasm.Backend;

namespace Sandbox.Bench.Wasm;

/// <summary>
/// Runs the bench with the .NET runtime tuned as a WebAssembly worker's is (<see cref="WorkerRuntimeSettings"/>), so it
/// measures the engine as it runs for a python-wasm or wasm run. The runtime reads these settings only when it starts,
/// so the bench starts itself again with them.
/// </summary>
internal static class AsTheWorker
{
    private const string Marker = "SANDBOX_BENCH_WASM_AS_WORKER";

    /// <summary>Whether the engine's image is ReadyToRun, as <c>make build</c> publishes the worker's.</summary>
    public static bool EnginePrecompiled { get; } = WorkerRuntimeSettings.IsPrecompiled(typeof(WasmEngine).Assembly.Location);

    /// <summary>True in the process started with the worker's settings.</summary>
    public static bool IsApplied => Environment.GetEnvironmentVariable(Marker) == "1";

    /// <summary>Runs this bench again with the worker's runtime settings and returns its exit code.</summary>
    public static int Rerun(string[] args)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("the bench cannot find its own host process");
        var start = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in WorkerRuntimeSettings.Tuning(EnginePrecompiled))
        {
            start.Environment[name] = value;
        }

        start.Environment[Marker] = "1";
        using var child = Process.Start(start) ?? throw new InvalidOperationException("the bench could not start itself again");
        child.WaitForExit();
        return child.ExitCode;
    }

    /// <summary>One line saying how our engine runs here.</summary>
    public static string Describe() =>
        (EnginePrecompiled
            ? "engine ReadyToRun"
            : "engine JIT-compiled, not ReadyToRun: its interpreter runs MinOpts code (too large for the JIT to optimise), slower than a worker's; `make bench-wasm` publishes it ReadyToRun as `make build` does")
        + "; runtime as a worker's: "
        + string.Join(' ', WorkerRuntimeSettings.Tuning(EnginePrecompiled).Select(s => $"{s.Key}={s.Value}"));
}
