namespace Sandbox.Guard.Policy;

/// <summary>Times of events within a trailing window; thread-safe.</summary>
internal sealed class SlidingWindow(TimeSpan length)
{
    private readonly Lock _lock = new();
    private readonly Queue<DateTimeOffset> _times = new();

    public void Add(DateTimeOffset at)
    {
        lock (_lock)
        {
            _times.Enqueue(at);
        }
    }

    public int Count(DateTimeOffset now)
    {
        lock (_lock)
        {
            Prune(now);
            return _times.Count;
        }
    }

    /// <summary>The oldest time still in the window (or <paramref name="now"/> when it is empty).</summary>
    public DateTimeOffset Oldest(DateTimeOffset now)
    {
        lock (_lock)
        {
            Prune(now);
            return _times.TryPeek(out var oldest) ? oldest : now;
        }
    }

    private void Prune(DateTimeOffset now)
    {
        while (_times.TryPeek(out var oldest) && now - oldest >= length)
        {
            _times.Dequeue();
        }
    }
}
