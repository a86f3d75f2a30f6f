using Sandbox.Docker.Sessions;
using Sandbox.Guard.Policy;

namespace Sandbox.Server.Sessions;

/// <summary>One open (or recently closed) session of an agent, as the registry keeps it.</summary>
internal sealed class SessionEntry
{
    private int _inFlight;
    private readonly Lock _closeGate = new();
    private Task? _closing;
    private long _lastUsedTicks;
    private int _cells;

    public SessionEntry(string id, Principal principal, DockerSession session, DateTimeOffset createdAt)
    {
        Id = id;
        Principal = principal;
        Session = session;
        CreatedAt = createdAt;
        _lastUsedTicks = createdAt.UtcTicks;
    }

    public string Id { get; }

    public Principal Principal { get; }

    public DockerSession Session { get; }

    public DateTimeOffset CreatedAt { get; }

    public DateTimeOffset LastUsedAt => new(Interlocked.Read(ref _lastUsedTicks), TimeSpan.Zero);

    public int Cells => Volatile.Read(ref _cells);

    /// <summary>
    /// Starts closing once (later callers get the same task): <paramref name="close"/> runs the first time only, and the
    /// session reads as closed once it has finished, that is, once its container is gone.
    /// </summary>
    public Task CloseOnceAsync(Func<Task> close)
    {
        lock (_closeGate)
        {
            return _closing ??= close();
        }
    }

    /// <summary>Why it closed; null while open.</summary>
    public string? ClosedReason { get; set; }

    public DateTimeOffset? ClosedAt { get; set; }

    public bool Busy => Volatile.Read(ref _inFlight) != 0;

    /// <summary>Takes the session for one cell; false when a cell is already queued or running in it.</summary>
    public bool TryBeginCell() => Interlocked.CompareExchange(ref _inFlight, 1, 0) == 0;

    public void EndCell(DateTimeOffset now)
    {
        Interlocked.Exchange(ref _lastUsedTicks, now.UtcTicks);
        Interlocked.Increment(ref _cells);
        Volatile.Write(ref _inFlight, 0);
    }

    /// <summary>A cell that never ran (refused): the session is free again and not counted as used.</summary>
    public void AbandonCell() => Volatile.Write(ref _inFlight, 0);
}
