namespace Sandbox.Bench.Wasm;

/// <summary>One guest invocation measured under both engines.</summary>
/// <param name="Name">Label in the table.</param>
/// <param name="WasmPath">The module.</param>
/// <param name="Args">argv after the program name.</param>
/// <param name="Preopens">Read-only folders, guest path to host path.</param>
/// <param name="Expected">What stdout must be, so a broken run is reported instead of timed.</param>
internal sealed record BenchCase(string Name, string WasmPath, IReadOnlyList<string> Args, IReadOnlyDictionary<string, string> Preopens, string Expected);

/// <summary>
/// Times of one case under one engine, in milliseconds; Runs holds each measured run (after a warm-up).
/// FirstMs (ours only) is compile plus the first, untimed-by-median run: what one cold run costs, including
/// compiling each called function to IL.
/// </summary>
internal sealed record BenchTiming(double CompileMs, IReadOnlyList<double> RunsMs, double? ProcessMs, double? FirstMs = null)
{
    /// <summary>Process CPU time of each measured run (compiler threads included): steadier than wall time on a loaded machine.</summary>
    public IReadOnlyList<double>? CpuMs { get; init; }

    public double MedianMs => Median(RunsMs);

    public double? MedianCpuMs => CpuMs is null ? null : Median(CpuMs);

    private static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
