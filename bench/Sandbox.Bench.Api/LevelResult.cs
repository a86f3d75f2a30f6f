namespace Sandbox.Bench.Api;

/// <summary>What one concurrency level measured (paced every <paramref name="IntervalMs"/> per worker, 0 back to back), and the figures the table shows.</summary>
internal sealed record LevelResult(int Concurrency, int IntervalMs, TimeSpan Elapsed, IReadOnlyList<RunSample> Samples)
{
    /// <summary>The warm pool's hits and misses during the level, from <c>/metrics</c> before and after; null without a pool.</summary>
    public (long Hits, long Misses)? Pool { get; init; }

    public int Ok => Samples.Count(s => s.Outcome == SampleOutcome.Ok);

    public int Refused => Samples.Count(s => s.Outcome == SampleOutcome.Refused);

    public int Errors => Samples.Count(s => s.Outcome == SampleOutcome.Error);

    /// <summary>Completed ok runs per second of the level's wall time; refusals and errors do not count.</summary>
    public double RunsPerSecond => Elapsed > TimeSpan.Zero ? Ok / Elapsed.TotalSeconds : 0;

    /// <summary>Client-side latency of the ok runs at percentile <paramref name="p"/>, or null when none were ok.</summary>
    public double? OkLatency(double p) => Percentile(Samples.Where(s => s.Outcome == SampleOutcome.Ok).Select(s => s.LatencyMs), p);

    /// <summary>The service's own queue time of the ok runs at percentile <paramref name="p"/>.</summary>
    public double? QueueMs(double p) => Percentile(Samples.Where(s => s.Outcome == SampleOutcome.Ok && s.QueueMs is not null).Select(s => (double)s.QueueMs!.Value), p);

    /// <summary>The service's own run time (slot taken to result) of the ok runs at percentile <paramref name="p"/>.</summary>
    public double? RunMs(double p) => Percentile(Samples.Where(s => s.Outcome == SampleOutcome.Ok && s.RunMs is not null).Select(s => (double)s.RunMs!.Value), p);

    /// <summary>The <c>Retry-After</c> values the 429s carried.</summary>
    public IReadOnlyList<int> RetryAfters => [.. Samples.Where(s => s.RetryAfterSeconds is not null).Select(s => s.RetryAfterSeconds!.Value)];

    /// <summary>Nearest-rank percentile: with 20 samples p99 is the slowest one, which is what it should say.</summary>
    private static double? Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return null;
        }

        var rank = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}
