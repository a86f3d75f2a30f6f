namespace Sandbox.Server.Hosting;

/// <summary>
/// Whether the guard store's folder still takes a write, for <c>/readyz</c>: a small file written, flushed to the device
/// and removed next to the database. A full or read-only disk refuses every run (503 <c>store_unavailable</c>), so a
/// balancer must see the service as not ready within a second rather than keep sending it work (issue 11, fault 7).
/// </summary>
internal sealed class StoreWriteProbe
{
    /// <summary>Room for one admission (its audit records, the run's row and their WAL frames), with a margin.</summary>
    private const int ProbeBytes = 64 * 1024;

    private static readonly byte[] s_zeros = new byte[ProbeBytes];
    private readonly string _path;

    public StoreWriteProbe(string databasePath)
    {
        _path = Path.Join(Path.GetDirectoryName(databasePath), ".readyz-write-probe");
    }

    /// <summary>Null when the write went through; otherwise why not, without the host path.</summary>
    public string? Unwritable()
    {
        try
        {
            using (var stream = new FileStream(_path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1, FileOptions.WriteThrough))
            {
                stream.Write(s_zeros);
                stream.Flush(flushToDisk: true);
            }

            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "the data folder takes no writes (a full or read-only disk): runs are refused with store_unavailable until there is room";
        }
        finally
        {
            try
            {
                File.Delete(_path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Left for the next probe to overwrite; it is 64 KiB at most.
            }
        }
    }
}
