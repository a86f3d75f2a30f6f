namespace Sandbox.Wasm;

/// <summary>
/// One engine's byte budget for guest-controlled storage: linear memories and tables draw their backing arrays from
/// it, so a module cannot multiply host memory by declaring many of them (100 tables of 1M entries are 800 MB, and
/// were counted nowhere). Allocated bytes (array capacity) are charged, because that is what the host holds; a grow
/// that cannot fit is refused like any other cap. Not thread-safe: one engine is used by one thread at a time.
/// </summary>
internal sealed class MemoryBudget
{
    private readonly long _totalCap;
    private readonly long _tableCap;

    public MemoryBudget(long? totalCap, long tableCap)
    {
        _totalCap = totalCap ?? long.MaxValue;
        _tableCap = tableCap;
    }

    /// <summary>Bytes of table storage allocated (8 per element of capacity).</summary>
    public long TableBytes { get; private set; }

    /// <summary>Bytes of linear memory allocated.</summary>
    public long LinearMemoryBytes { get; private set; }

    /// <summary>Guest-visible bytes now: memory sizes plus 8 per table element.</summary>
    public long VisibleBytes { get; private set; }

    /// <summary>Highest <see cref="VisibleBytes"/> so far.</summary>
    public long PeakVisibleBytes { get; private set; }

    /// <summary>True once a memory or table grow was refused by a host cap (not by the module's own maximum).</summary>
    public bool GrowRefusedByCap { get; set; }

    /// <summary>Bytes a table (or, with <paramref name="table"/> false, a memory) may still allocate.</summary>
    public long Available(bool table)
    {
        var total = _totalCap - TableBytes - LinearMemoryBytes;
        return table ? Math.Min(total, _tableCap - TableBytes) : total;
    }

    /// <summary>Charges <paramref name="bytes"/> more of allocation, or returns false and charges nothing.</summary>
    public bool TryAllocate(long bytes, bool table)
    {
        if (bytes > Available(table))
        {
            return false;
        }

        if (table)
        {
            TableBytes += bytes;
        }
        else
        {
            LinearMemoryBytes += bytes;
        }

        return true;
    }

    public void AddVisible(long bytes)
    {
        VisibleBytes += bytes;
        PeakVisibleBytes = Math.Max(PeakVisibleBytes, VisibleBytes);
    }

    /// <summary>Names what bounded an allocation, for link errors.</summary>
    public string Describe(bool table) =>
        table && _tableCap - TableBytes <= _totalCap - TableBytes - LinearMemoryBytes
            ? $"{nameof(WasmEngineOptions.MaxTableBytes)} ({_tableCap} bytes of tables, {TableBytes} already allocated)"
            : $"{nameof(WasmEngineOptions.MemoryBudgetBytes)} ({_totalCap} bytes of memory and tables, {TableBytes + LinearMemoryBytes} already allocated)";
}
