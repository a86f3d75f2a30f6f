namespace Sandbox.Guard.Alerts;

/// <summary>
/// One agent's recent admissions in time order, with the counts <see cref="RunDetectors"/> needs: any span's count by
/// binary search, and each code hash's count in the loop window kept as the window slides. Not thread-safe: the
/// detectors' lock guards it.
/// </summary>
/// <remarks>
/// Entries are in time order and in sequence order at once: an admission older than the newest one recorded (a
/// straggler, or the clock stepping back) is recorded at the newest one's time. One host stamps admissions as they
/// happen, so that only ever moves an edge case across a window boundary.
/// </remarks>
internal sealed class AdmissionHistory
{
    private readonly int _capacity;
    private readonly List<Entry> _entries = [];

    // Entries before _head are dropped; _entries[_head] has sequence _headSequence.
    private int _head;
    private long _headSequence;

    // The loop counts cover entries from sequence _loopFront on: in the loop window and since the loop last fired.
    private long _loopFront;
    private readonly Dictionary<string, int> _loopCounts = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="capacity">The most entries held; the oldest are dropped first.</param>
    public AdmissionHistory(int capacity) => _capacity = capacity;

    public int Count => _entries.Count - _head;

    /// <summary>The time of the first admission recorded, or <see cref="DateTimeOffset.MaxValue"/> before it.</summary>
    public DateTimeOffset FirstAt { get; private set; } = DateTimeOffset.MaxValue;

    /// <summary>The time of the newest entry dropped for room rather than age: nothing is known before it.</summary>
    public DateTimeOffset? EvictedThrough { get; private set; }

    private long NextSequence => _headSequence + Count;

    /// <summary>Records an admission; returns its sequence number and the time it is recorded at.</summary>
    public (long Sequence, DateTimeOffset At) Add(DateTimeOffset at, string codeSha256)
    {
        if (Count > 0 && at < _entries[^1].At)
        {
            at = _entries[^1].At;
        }

        if (at < FirstAt)
        {
            FirstAt = at;
        }

        while (Count >= _capacity)
        {
            EvictedThrough = _entries[_head].At;
            DropHead();
        }

        Compact();
        long sequence = NextSequence;
        _entries.Add(new Entry(at, codeSha256));
        _loopCounts[codeSha256] = _loopCounts.GetValueOrDefault(codeSha256) + 1;
        return (sequence, at);
    }

    /// <summary>Drops entries at or before <paramref name="before"/>.</summary>
    public void Prune(DateTimeOffset before)
    {
        while (Count > 0 && _entries[_head].At <= before)
        {
            DropHead();
        }

        Compact();
    }

    /// <summary>Entries after <paramref name="after"/> (exclusive) with a sequence above <paramref name="afterSequence"/>.</summary>
    public int CountAfter(DateTimeOffset after, long afterSequence)
    {
        int start = Math.Max(FirstIndexAfter(after), IndexOf(afterSequence + 1));
        return _entries.Count - start;
    }

    /// <summary>Entries in (<paramref name="from"/>, <paramref name="to"/>].</summary>
    public int CountBetween(DateTimeOffset from, DateTimeOffset to) =>
        to <= from ? 0 : FirstIndexAfter(to) - FirstIndexAfter(from);

    /// <summary>How many entries with this hash are after <paramref name="windowStart"/> and since the last <see cref="ResetLoop"/>.</summary>
    public int LoopCount(string codeSha256, DateTimeOffset windowStart)
    {
        // windowStart only moves forward (entry times do), so the front only moves forward: amortized O(1).
        for (int i = IndexOf(_loopFront); i < _entries.Count && _entries[i].At <= windowStart; i = IndexOf(_loopFront))
        {
            if (!_entries[i].Forgiven)
            {
                Uncount(_entries[i].CodeSha256);
            }

            _loopFront++;
        }

        return _loopCounts.GetValueOrDefault(codeSha256);
    }

    /// <summary>
    /// Takes one admission of <paramref name="codeSha256"/> out of the loop count (the newest still counted), for a run
    /// our infrastructure failed: a client retrying the same code through an outage is not looping. It still counts
    /// for the rate spike, which is about admissions, not outcomes. False when none of that hash is counted.
    /// </summary>
    public bool Forgive(string codeSha256)
    {
        for (int i = _entries.Count - 1; i >= IndexOf(_loopFront); i--)
        {
            if (_entries[i] is { Forgiven: false } entry && string.Equals(entry.CodeSha256, codeSha256, StringComparison.OrdinalIgnoreCase))
            {
                _entries[i] = entry with { Forgiven = true };
                Uncount(codeSha256);
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Takes back the newest admission, <paramref name="sequence"/>, as if it had never been added: its commit failed, so
    /// it never happened. False (nothing changed) when it is not the newest entry.
    /// </summary>
    public bool Withdraw(long sequence)
    {
        if (Count == 0 || sequence != NextSequence - 1)
        {
            return false;
        }

        var entry = _entries[^1];
        if (sequence >= _loopFront && !entry.Forgiven)
        {
            Uncount(entry.CodeSha256);
        }

        _entries.RemoveAt(_entries.Count - 1);
        // A loop reset that came with it moved the front past it; the next admission takes its sequence and must count.
        _loopFront = Math.Min(_loopFront, NextSequence);
        return true;
    }

    /// <summary>Forgets the loop counts: from now on only later admissions count.</summary>
    public void ResetLoop()
    {
        _loopCounts.Clear();
        _loopFront = NextSequence;
    }

    // Compacts once the dropped prefix is the larger half, so the list stays within twice the live entries.
    private void Compact()
    {
        if (_head > 64 && _head > Count)
        {
            _entries.RemoveRange(0, _head);
            _head = 0;
        }
    }

    private void DropHead()
    {
        if (_headSequence >= _loopFront)
        {
            if (!_entries[_head].Forgiven)
            {
                Uncount(_entries[_head].CodeSha256);
            }

            _loopFront = _headSequence + 1;
        }

        _entries[_head] = default;
        _head++;
        _headSequence++;
    }

    private void Uncount(string codeSha256)
    {
        int left = _loopCounts[codeSha256] - 1;
        if (left == 0)
        {
            _loopCounts.Remove(codeSha256);
        }
        else
        {
            _loopCounts[codeSha256] = left;
        }
    }

    /// <summary>The list index of a sequence number, clamped to the live entries (and one past the end).</summary>
    private int IndexOf(long sequence) =>
        (int)Math.Clamp(sequence - _headSequence + _head, _head, _entries.Count);

    /// <summary>The index of the first live entry later than <paramref name="at"/>, or the end.</summary>
    private int FirstIndexAfter(DateTimeOffset at)
    {
        int lo = _head;
        int hi = _entries.Count;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) / 2);
            if (_entries[mid].At <= at)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private readonly record struct Entry(DateTimeOffset At, string CodeSha256, bool Forgiven = false);
}
