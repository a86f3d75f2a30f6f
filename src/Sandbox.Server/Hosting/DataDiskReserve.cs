using System.Globalization;

namespace Sandbox.Server.Hosting;

/// <summary>
/// Keeps room on the data folder's disk (<see cref="ServerOptions.MinFreeDataDiskMb"/>): while its free space is below the
/// reserve, new runs are refused with 503 <c>store_unavailable</c> and <c>/readyz</c> says the store is not ready. The
/// service's own files grow with its work (the audit log keeps every admitted run's code, as many bytes again as the code,
/// up to 8 MiB a run, and an agent may have a thousand runs a day; the logs; a run's artifacts), and a disk it filled would fail the host's
/// other writers too, Docker's among them. Stopping at the reserve leaves runs in flight room to record their ends, so
/// nothing admitted is lost. Free space is read (statvfs) at most every half second.
/// </summary>
internal sealed class DataDiskReserve
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromMilliseconds(500);
    private readonly string _directory;
    private readonly long _reserveBytes;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private (string? Shortfall, long At)? _cached;

    private DataDiskReserve(string directory, long reserveBytes, TimeProvider time)
    {
        _directory = directory;
        _reserveBytes = reserveBytes;
        _time = time;
    }

    /// <summary>The reserve the options set for their data folder; null when it is off (0).</summary>
    public static DataDiskReserve? For(ServerOptions options, TimeProvider time) =>
        options.MinFreeDataDiskMb > 0 ? new DataDiskReserve(options.DataDirectory, options.MinFreeDataDiskMb * 1024 * 1024, time) : null;

    /// <summary>Null while the disk has the reserve free; otherwise why runs are refused, without the host path.</summary>
    public string? Shortfall()
    {
        lock (_gate)
        {
            if (_cached is { } cached && _time.GetElapsedTime(cached.At) < CacheFor)
            {
                return cached.Shortfall;
            }

            var shortfall = Measure();
            _cached = (shortfall, _time.GetTimestamp());
            return shortfall;
        }
    }

    private string? Measure()
    {
        long free;
        try
        {
            free = new DriveInfo(_directory).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // The folder cannot be measured: the store's own writes say whether it works, as they did before this check.
            return null;
        }

        return free >= _reserveBytes
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"the data folder's disk has {free / (1024 * 1024)} MiB free, below the {_reserveBytes / (1024 * 1024)} MiB Sandbox:MinFreeDataDiskMb keeps for the runs in flight and the host; new runs are refused until there is room");
    }
}
