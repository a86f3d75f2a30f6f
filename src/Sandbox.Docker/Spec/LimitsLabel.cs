using System.Globalization;
using Sandbox.Core.Limits;

namespace Sandbox.Docker.Spec;

/// <summary>
/// A step's limits written into its <see cref="SandboxLabels.Limits"/> label (<c>wallTimeMs=10000;cpuTimeMs=5000;…</c>)
/// and read back by start-up recovery, which must judge a container's end against the limits the run had.
/// </summary>
internal static class LimitsLabel
{
    private const string CompileErrorKey = "compileErrorExitCode";

    /// <summary>The CPU its compile step used, known when the run step is created: recovery charges it with the run's.</summary>
    private const string CompileCpuKey = "compileCpuMs";

    public static string Format(ResourceLimits limits, int? compileErrorExitCode = null, long? compileCpuMs = null)
    {
        var parts = limits.Enumerate().Select(l => l.Name + "=" + l.Value.ToString(CultureInfo.InvariantCulture)).ToList();
        if (compileErrorExitCode is { } code)
        {
            parts.Add(CompileErrorKey + "=" + code.ToString(CultureInfo.InvariantCulture));
        }

        if (compileCpuMs is { } cpu)
        {
            parts.Add(CompileCpuKey + "=" + cpu.ToString(CultureInfo.InvariantCulture));
        }

        return string.Join(';', parts);
    }

    /// <summary>The limits, or null when the label is missing a limit or malformed (a container of another version: not judged).</summary>
    public static JudgedLimits? Parse(string? text)
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var part in (text ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || !long.TryParse(part[(eq + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                return null;
            }

            values[part[..eq]] = value;
        }

        long Get(string name) => values.TryGetValue(name, out var v) ? v : -1;
        var limits = new ResourceLimits
        {
            WallTimeMs = Get(LimitNames.WallTimeMs),
            CpuTimeMs = Get(LimitNames.CpuTimeMs),
            MemoryBytes = Get(LimitNames.MemoryBytes),
            Pids = (int)Math.Clamp(Get(LimitNames.Pids), -1, int.MaxValue),
            StdoutBytes = Get(LimitNames.StdoutBytes),
            StderrBytes = Get(LimitNames.StderrBytes),
            FileSizeBytes = Get(LimitNames.FileSizeBytes),
            TmpBytes = Get(LimitNames.TmpBytes),
        };
        if (limits.Enumerate().Any(l => l.Value < 0))
        {
            return null;
        }

        return new JudgedLimits(limits, values.TryGetValue(CompileErrorKey, out var code) ? (int)code : null,
            values.TryGetValue(CompileCpuKey, out var cpu) ? cpu : null);
    }
}

/// <summary>What a run step's label says to judge it by: its limits, the compile-error exit code, and its compile step's CPU.</summary>
internal sealed record JudgedLimits(ResourceLimits Limits, int? CompileErrorExitCode, long? CompileCpuMs);
