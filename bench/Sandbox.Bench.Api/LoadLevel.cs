using System.Diagnostics;

namespace Sandbox.Bench.Api;

/// <summary>
/// One concurrency level, closed loop: <c>concurrency</c> workers each send their next request as soon as the
/// previous one is answered, until <c>requests</c> have been sent in all. A 429 is answered at once, so under
/// overload a worker moves straight on to its next request: the refusals show where the queue bound bites.
/// </summary>
internal static class LoadLevel
{
    public static async Task<LevelResult> RunAsync(RunClient client, int concurrency, int requests, CancellationToken cancellationToken)
    {
        var next = -1;
        var perWorker = new List<RunSample>[concurrency];
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(
            async () =>
            {
                // Each worker keeps its own list, so recording a sample takes no lock.
                var samples = perWorker[w] = [];
                while (Interlocked.Increment(ref next) < requests)
                {
                    samples.Add(await client.RunOnceAsync(cancellationToken));
                }
            },
            cancellationToken));
        await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(started);
        return new LevelResult(concurrency, elapsed, [.. perWorker.SelectMany(s => s)]);
    }
}
