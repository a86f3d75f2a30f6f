using System.Diagnostics;

namespace Sandbox.Bench.Api;

/// <summary>
/// One concurrency level, closed loop: <c>concurrency</c> workers each send their next request as soon as the
/// previous one is answered (or, paced, no sooner than <c>intervalMs</c> after the previous one was sent), until
/// <c>requests</c> have been sent in all. A 429 is answered at once, so under overload a worker moves straight on to
/// its next request: the refusals show where the queue bound bites.
/// </summary>
internal static class LoadLevel
{
    public static async Task<LevelResult> RunAsync(RunClient client, int concurrency, int requests, int intervalMs, CancellationToken cancellationToken)
    {
        var next = -1;
        var perWorker = new List<RunSample>[concurrency];
        var interval = TimeSpan.FromMilliseconds(intervalMs);
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(
            async () =>
            {
                // Each worker keeps its own list, so recording a sample takes no lock.
                var samples = perWorker[w] = [];
                while (Interlocked.Increment(ref next) < requests)
                {
                    var sent = Stopwatch.GetTimestamp();
                    samples.Add(await client.RunOnceAsync(cancellationToken));
                    // Paced: the wait is idle time between requests, outside every sample's latency.
                    if (Stopwatch.GetElapsedTime(sent) is var spent && spent < interval)
                    {
                        await Task.Delay(interval - spent, cancellationToken);
                    }
                }
            },
            cancellationToken));
        await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(started);
        return new LevelResult(concurrency, intervalMs, elapsed, [.. perWorker.SelectMany(s => s)]);
    }
}
