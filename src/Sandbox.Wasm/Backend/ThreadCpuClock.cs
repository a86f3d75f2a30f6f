using System.Runtime.InteropServices;

namespace Sandbox.Wasm.Backend;

/// <summary>
/// CPU time (user + system) consumed by the calling thread, from <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>.
/// Read on the engine's execution thread at the start and end of a run, so the difference is exactly the CPU
/// the guest (and our engine working for it) used, independent of what other threads or runs were doing.
/// </summary>
internal static class ThreadCpuClock
{
    /// <summary>Linux's clock id for the calling thread's CPU-time clock.</summary>
    private const int ClockThreadCpuTimeId = 3;

    /// <summary>The calling thread's CPU time so far, or null where the clock is unavailable (not Linux).</summary>
    public static TimeSpan? Now()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            return ClockGetTime(ClockThreadCpuTimeId, out var ts) == 0
                ? TimeSpan.FromTicks((ts.Seconds * TimeSpan.TicksPerSecond) + (ts.Nanoseconds / 100))
                : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    // A plain libc call with a blittable out struct: no marshalling. DllImport rather than LibraryImport
    // because LibraryImport's generated stub needs AllowUnsafeBlocks, which this project keeps off.
#pragma warning disable SYSLIB1054 // see above: LibraryImport would require unsafe code in this project.
    [DllImport("libc", EntryPoint = "clock_gettime")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int ClockGetTime(int clockId, out Timespec value);
#pragma warning restore SYSLIB1054
}
