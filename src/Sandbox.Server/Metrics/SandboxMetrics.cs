using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Sandbox.Server.Metrics;

/// <summary>
/// The service's metrics, rendered in the Prometheus text format at <c>GET /metrics</c>: runs by status and
/// backend, run and queue-wait durations, refusals by reason, and the scheduler's gauges read at scrape time.
/// </summary>
/// <remarks>
/// Every recording method is thread-safe and lock-free (Interlocked counters in concurrent dictionaries).
/// Label values come from our own code (statuses, backend names, refusal reasons), never from a request,
/// so the number of series stays small.
/// </remarks>
internal sealed class SandboxMetrics
{
    /// <summary>The content type of <see cref="Render"/>'s text.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Bucket bounds in seconds for 1 ms to 60 s: a hello-world on the Wasm backend takes milliseconds, a timed-out run its wall limit.</summary>
    internal static readonly double[] DurationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly ConcurrentDictionary<(string Status, string Backend), StrongBox<long>> _runs = new();
    private readonly ConcurrentDictionary<string, Histogram> _runDurations = new(StringComparer.Ordinal);
    private readonly Histogram _queueWait = new(DurationBuckets);
    private readonly ConcurrentDictionary<string, StrongBox<long>> _refusals = new(StringComparer.Ordinal);
    private volatile SchedulerGauges? _scheduler;
    private volatile Docker.Pooling.WarmPool? _pool;
    private readonly Histogram _poolRefill = new(DurationBuckets);

    /// <summary>Counts a finished run and observes how long it waited in the queue and how long it ran.</summary>
    public void RecordRun(string status, string backend, TimeSpan queued, TimeSpan run)
    {
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(backend);
        Interlocked.Increment(ref _runs.GetOrAdd((status, backend), static _ => new StrongBox<long>()).Value);
        _runDurations.GetOrAdd(backend, static _ => new Histogram(DurationBuckets)).Observe(Seconds(run));
        _queueWait.Observe(Seconds(queued));
    }

    /// <summary>Counts a request refused before it ran, such as <c>queue_full</c>, <c>shutting_down</c> or <c>invalid_request</c>.</summary>
    public void RecordRefusal(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        Interlocked.Increment(ref _refusals.GetOrAdd(reason, static _ => new StrongBox<long>()).Value);
    }

    /// <summary>
    /// Where the scheduler gauges come from: the two callbacks are read at every scrape (they must be cheap and
    /// thread-safe), the two limits are fixed. Until this is called the gauges are not rendered. A later call replaces an earlier one.
    /// </summary>
    public void ObserveScheduler(Func<int> queueDepth, Func<int> runningRuns, int maxConcurrent, int maxQueue)
    {
        ArgumentNullException.ThrowIfNull(queueDepth);
        ArgumentNullException.ThrowIfNull(runningRuns);
        _scheduler = new SchedulerGauges(queueDepth, runningRuns, maxConcurrent, maxQueue);
    }

    /// <summary>Shows the Docker backend's warm pool: hits, misses and idle containers read at scrape time, refill times as they come.</summary>
    public void ObserveWarmPool(Docker.Pooling.WarmPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        pool.Refilled = made => _poolRefill.Observe(Seconds(made));
        _pool = pool;
    }

    /// <summary>Every metric in the Prometheus text exposition format 0.0.4, families and series in a stable order.</summary>
    public string Render()
    {
        var writer = new PrometheusTextWriter();

        writer.WriteFamily("sandbox_runs_total", "counter", "Runs that finished, by status and backend.");
        foreach (var ((status, backend), count) in _runs.ToArray().OrderBy(p => p.Key.Status, StringComparer.Ordinal).ThenBy(p => p.Key.Backend, StringComparer.Ordinal))
        {
            writer.WriteSample("sandbox_runs_total", [new("status", status), new("backend", backend)], Interlocked.Read(ref count.Value));
        }

        writer.WriteFamily("sandbox_run_duration_seconds", "histogram", "How long runs took from start to result, by backend.");
        foreach (var (backend, histogram) in _runDurations.ToArray().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            histogram.Write(writer, "sandbox_run_duration_seconds", [new("backend", backend)]);
        }

        writer.WriteFamily("sandbox_queue_wait_seconds", "histogram", "How long runs waited in the queue before they started.");
        _queueWait.Write(writer, "sandbox_queue_wait_seconds", []);

        writer.WriteFamily("sandbox_refusals_total", "counter", "Requests refused before they ran, by reason.");
        foreach (var (reason, count) in _refusals.ToArray().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            writer.WriteSample("sandbox_refusals_total", [new("reason", reason)], Interlocked.Read(ref count.Value));
        }

        if (_scheduler is { } scheduler)
        {
            writer.WriteFamily("sandbox_queue_depth", "gauge", "Runs waiting in the queue now.");
            writer.WriteSample("sandbox_queue_depth", [], scheduler.QueueDepth());
            writer.WriteFamily("sandbox_concurrent_runs", "gauge", "Runs executing now.");
            writer.WriteSample("sandbox_concurrent_runs", [], scheduler.RunningRuns());
            writer.WriteFamily("sandbox_max_concurrent_runs", "gauge", "The most runs that may execute at once.");
            writer.WriteSample("sandbox_max_concurrent_runs", [], scheduler.MaxConcurrent);
            writer.WriteFamily("sandbox_max_queue_length", "gauge", "The most runs that may wait in the queue.");
            writer.WriteSample("sandbox_max_queue_length", [], scheduler.MaxQueue);
        }

        if (_pool is { } pool)
        {
            // The value of this service's io.sandbox.pool label: which pool containers on a shared daemon are this service's.
            writer.WriteFamily("sandbox_warm_pool_info", "gauge", "This service's warm pool; its instance label is the io.sandbox.pool label of its containers.");
            writer.WriteSample("sandbox_warm_pool_info", [new("instance", Docker.Pooling.WarmPool.Instance)], 1);
            writer.WriteFamily("sandbox_warm_pool_hits_total", "counter", "Docker runs that claimed a warm container.");
            writer.WriteSample("sandbox_warm_pool_hits_total", [], pool.Hits);
            writer.WriteFamily("sandbox_warm_pool_misses_total", "counter", "Docker runs that started cold: no warm container of their exact spec was idle.");
            writer.WriteSample("sandbox_warm_pool_misses_total", [], pool.Misses);
            var stats = pool.Stats();
            writer.WriteFamily("sandbox_warm_pool_idle", "gauge", "Warm containers idle now, by pool and runtime.");
            foreach (var slot in stats)
            {
                writer.WriteSample("sandbox_warm_pool_idle", [new("pool", slot.Name), new("runtime", slot.Runtime)], slot.Idle);
            }

            writer.WriteFamily("sandbox_warm_pool_size", "gauge", "Warm containers each pool keeps, by pool and runtime.");
            foreach (var slot in stats)
            {
                writer.WriteSample("sandbox_warm_pool_size", [new("pool", slot.Name), new("runtime", slot.Runtime)], slot.Size);
            }

            writer.WriteFamily("sandbox_warm_pool_refill_seconds", "histogram", "How long making one warm container took (create, attach, start).");
            _poolRefill.Write(writer, "sandbox_warm_pool_refill_seconds", []);
        }

        return writer.ToString();
    }

    // A negative span (it should not happen with a monotonic clock) would make _sum decrease; count it as zero.
    private static double Seconds(TimeSpan span) => span < TimeSpan.Zero ? 0 : span.TotalSeconds;

    private sealed record SchedulerGauges(Func<int> QueueDepth, Func<int> RunningRuns, int MaxConcurrent, int MaxQueue);
}
