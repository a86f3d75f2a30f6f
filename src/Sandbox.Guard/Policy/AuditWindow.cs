namespace Sandbox.Guard.Policy;

/// <summary>
/// Counts records of one kind that a caller can cause at will (failed authentications; one agent's refused requests) in
/// fixed one-minute windows: the first few of each window are audited one by one, the rest only counted, by code.
/// Thread-safe. A window's count is taken once it is over (or when forced).
/// </summary>
internal sealed class AuditWindow
{
    private static readonly TimeSpan s_window = TimeSpan.FromMinutes(1);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _suppressedByCode = new(StringComparer.Ordinal);
    private DateTimeOffset _start = DateTimeOffset.MinValue;
    private int _admitted;
    private int _suppressed;

    /// <summary>True when this one is to be audited on its own; false when it was only counted.</summary>
    public bool TryAdmit(DateTimeOffset now, string code, int perWindow)
    {
        lock (_lock)
        {
            if (now - _start >= s_window)
            {
                // A new window. Anything suppressed in the old one was taken by TakeSuppressed first (the caller flushes before admitting).
                _start = now;
                _admitted = 0;
            }

            if (_admitted < perWindow)
            {
                _admitted++;
                return true;
            }

            _suppressed++;
            _suppressedByCode[code] = _suppressedByCode.GetValueOrDefault(code) + 1;
            return false;
        }
    }

    /// <summary>The count suppressed in the window that is over (or in the current one, when forced), once; null when there is none.</summary>
    public SuppressedRecords? TakeSuppressed(DateTimeOffset now, bool force)
    {
        lock (_lock)
        {
            if (_suppressed == 0 || (!force && now - _start < s_window))
            {
                return null;
            }

            var taken = new SuppressedRecords(_suppressed, new Dictionary<string, int>(_suppressedByCode, StringComparer.Ordinal), _start, _start + s_window);
            _suppressed = 0;
            _suppressedByCode.Clear();
            return taken;
        }
    }
}

/// <summary>Records counted but not audited one by one, from <see cref="WindowStart"/> to <see cref="WindowEnd"/>.</summary>
internal sealed record SuppressedRecords(int Count, IReadOnlyDictionary<string, int> ByCode, DateTimeOffset WindowStart, DateTimeOffset WindowEnd);
