using System.Threading.Channels;

namespace Sandbox.Server.Scheduling;

/// <summary>
/// Bounded concurrency with a bounded queue in front: at most <c>maxConcurrent</c> jobs run, at most
/// <c>maxQueue</c> wait, and anything past that is refused at once (the caller answers 429) rather than
/// left to hang. Jobs start in arrival order.
/// </summary>
internal sealed class RunScheduler<T>
    where T : class
{
    private readonly Channel<T> _queue = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly Func<T, Task> _execute;
    private readonly Action? _freed;
    private readonly Task[] _workers;
    private int _admitted;
    private int _running;

    // freed: called each time a job has left its slot (after the counts dropped), so a free slot can be filled from elsewhere.
    public RunScheduler(int maxConcurrent, int maxQueue, Func<T, Task> execute, Action? freed = null)
    {
        MaxConcurrent = maxConcurrent;
        MaxQueue = maxQueue;
        _execute = execute;
        _freed = freed;
        _workers = [.. Enumerable.Range(0, maxConcurrent).Select(_ => Task.Run(WorkAsync))];
    }

    public int MaxConcurrent { get; }

    public int MaxQueue { get; }

    /// <summary>Jobs executing now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Jobs admitted but not yet started.</summary>
    public int QueueDepth => Math.Max(0, Volatile.Read(ref _admitted) - Running);

    /// <summary>Admits a job, or returns false when the slots and the queue are all taken (or the scheduler is closed).</summary>
    public bool TryEnqueue(T job)
    {
        // Admission is counted before the write so two callers can never both take the last place.
        while (true)
        {
            var admitted = Volatile.Read(ref _admitted);
            if (admitted >= MaxConcurrent + MaxQueue)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _admitted, admitted + 1, admitted) == admitted)
            {
                break;
            }
        }

        if (!_queue.Writer.TryWrite(job))
        {
            Interlocked.Decrement(ref _admitted);
            return false;
        }

        return true;
    }

    /// <summary>Stops admitting; returns the jobs that were still waiting, which will never start.</summary>
    public IReadOnlyList<T> Close()
    {
        _queue.Writer.TryComplete();
        var left = new List<T>();
        while (_queue.Reader.TryRead(out var job))
        {
            Interlocked.Decrement(ref _admitted);
            left.Add(job);
        }

        return left;
    }

    /// <summary>Completes when every worker has finished its current job after <see cref="Close"/>.</summary>
    public Task Completion => Task.WhenAll(_workers);

    private async Task WorkAsync()
    {
        await foreach (var job in _queue.Reader.ReadAllAsync())
        {
            Interlocked.Increment(ref _running);
            try
            {
                await _execute(job);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
                Interlocked.Decrement(ref _admitted);
                _freed?.Invoke();
            }
        }
    }
}
