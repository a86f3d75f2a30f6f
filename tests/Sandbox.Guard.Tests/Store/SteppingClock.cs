namespace Sandbox.Guard.Tests.Store;

/// <summary>
/// A clock that moves forward one millisecond each time it is read, from many threads at once, so
/// every audit record gets its own time and tests know exactly what those times are.
/// </summary>
internal sealed class SteppingClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public SteppingClock()
        : this(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    public override DateTimeOffset GetUtcNow() =>
        new(Interlocked.Add(ref _ticks, TimeSpan.TicksPerMillisecond), TimeSpan.Zero);

    /// <summary>The time the next read will return, without moving the clock.</summary>
    public DateTimeOffset Peek() => new(Interlocked.Read(ref _ticks) + TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
}
