using System.Globalization;

namespace Sandbox.Core.Isolation;

/// <summary>
/// Reads a cgroup directory's accounting files, v1 or v2: the one place that knows their names and formats, for the
/// Docker meter (a run's parent cgroup) and the WebAssembly worker's own cgroup.
/// </summary>
public static class CgroupFiles
{
    /// <summary>Writes a control file; false when the kernel refuses it or it is gone (a cgroup can vanish under us).</summary>
    public static bool TryWrite(string path, string value)
    {
        try
        {
            File.WriteAllText(path, value);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>CPU time charged to the cgroup in nanoseconds (<paramref name="cpuDir"/> is the cpuacct directory on v1); null when unreadable.</summary>
    public static long? CpuNanos(string cpuDir, bool isV2)
    {
        if (isV2)
        {
            var line = TryRead(Path.Join(cpuDir, "cpu.stat"))?.Split('\n').FirstOrDefault(l => l.StartsWith("usage_usec ", StringComparison.Ordinal));
            return ParseLong(line?["usage_usec ".Length..]) * 1000;
        }

        return ParseLong(TryRead(Path.Join(cpuDir, "cpuacct.usage")));
    }

    /// <summary>The cgroup's memory high-water mark in bytes (v2 without <c>memory.peak</c>: its current use); null when unreadable.</summary>
    public static long? PeakMemoryBytes(string memoryDir, bool isV2) => isV2
        ? ParseLong(TryRead(Path.Join(memoryDir, "memory.peak")) ?? TryRead(Path.Join(memoryDir, "memory.current")))
        : ParseLong(TryRead(Path.Join(memoryDir, "memory.max_usage_in_bytes")));

    /// <summary>A cgroup file's text, or null when it is gone or unreadable (a cgroup can vanish between two reads).</summary>
    public static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>A decimal number, trimmed; null when absent or malformed.</summary>
    public static long? ParseLong(string? text) =>
        long.TryParse(text?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
}
