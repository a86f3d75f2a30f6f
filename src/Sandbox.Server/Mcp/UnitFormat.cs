using System.Globalization;
using Sandbox.Core.Limits;

namespace Sandbox.Server.Mcp;

/// <summary>Limits and usage in the units a model reads best: "10 s", "256 MiB", "64 processes".</summary>
internal static class UnitFormat
{
    private const long KiB = 1024;
    private const long MiB = 1024 * KiB;
    private const long GiB = 1024 * MiB;

    public static string Milliseconds(long ms) =>
        ms < 1000 ? Invariant($"{ms} ms") : Invariant($"{Trim(ms / 1000.0)} s");

    public static string Bytes(long bytes) => bytes switch
    {
        >= GiB => Invariant($"{Trim((double)bytes / GiB)} GiB"),
        >= MiB => Invariant($"{Trim((double)bytes / MiB)} MiB"),
        >= KiB => Invariant($"{Trim((double)bytes / KiB)} KiB"),
        _ => Invariant($"{bytes} bytes"),
    };

    /// <summary>A limit's value in its own unit, chosen by the limit's wire name.</summary>
    public static string Limit(string limitName, long value) => limitName switch
    {
        LimitNames.WallTimeMs or LimitNames.CpuTimeMs => Milliseconds(value),
        LimitNames.Pids => Invariant($"{value}"),
        _ => Bytes(value),
    };

    /// <summary>What a limit is, in words, for sentences such as "the wall time of 10 s".</summary>
    public static string LimitTitle(string limitName) => limitName switch
    {
        LimitNames.WallTimeMs => "wall time",
        LimitNames.CpuTimeMs => "CPU time",
        LimitNames.MemoryBytes => "memory",
        LimitNames.Pids => "processes and threads",
        LimitNames.StdoutBytes => "stdout",
        LimitNames.StderrBytes => "stderr",
        LimitNames.FileSizeBytes => "file size",
        LimitNames.TmpBytes => "/tmp space",
        _ => limitName,
    };

    /// <summary>Every limit of a profile on one line: "wall time 10 s, CPU time 5 s, memory 256 MiB, ...".</summary>
    public static string Limits(ResourceLimits limits) =>
        string.Join(", ", limits.Enumerate().Select(l => $"{LimitTitle(l.Name)} {Limit(l.Name, l.Value)}"));

    private static string Trim(double value) => value.ToString(value >= 100 || value == Math.Floor(value) ? "0" : "0.#", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);
}
