using System.Collections.Concurrent;

namespace Sandbox.Docker.Execution;

/// <summary>
/// Removals of containers whose step has already ended, run after the result is returned: removing a container costs the
/// daemon about 30 ms, and nothing of the run is left in it (its processes are gone and its cgroup is empty). Bounded, so a
/// burst of runs cannot pile up unbounded work on the daemon; shutdown and tests wait for them (<see cref="WhenIdleAsync"/>).
/// </summary>
internal sealed class BackgroundRemovals
{
    private readonly ConcurrentDictionary<long, Task> _pending = new();
    private readonly int _limit;
    private long _next;

    public BackgroundRemovals(int limit) => _limit = limit;

    /// <summary>Removals started and not yet finished.</summary>
    public int Count => _pending.Count;

    /// <summary>
    /// Starts <paramref name="removal"/> in the background and returns a completed task, or, with <see cref="Count"/> at the
    /// limit, returns the removal itself for the caller to wait on (back-pressure instead of a growing backlog).
    /// </summary>
    public Task Start(Func<Task> removal)
    {
        if (_pending.Count >= _limit)
        {
            return removal();
        }

        var key = Interlocked.Increment(ref _next);
        var task = Task.Run(removal);
        _pending[key] = task;
        _ = task.ContinueWith(_ => _pending.TryRemove(key, out Task? _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Waits until no removal is under way (each ends on its own: removals carry their own timeouts). A removal that failed
    /// does not fail the wait: it logged its own failure, and the reaper removes what it left.
    /// </summary>
    public async Task WhenIdleAsync()
    {
        while (!_pending.IsEmpty)
        {
            await Task.WhenAll(_pending.Values).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
