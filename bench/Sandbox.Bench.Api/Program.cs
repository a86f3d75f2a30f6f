using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Sandbox.Bench.Api;

// make bench-api: `sandbox serve` under load from this separate process. Python hello-world runs through
// POST /v1/runs at each concurrency level (closed loop, a fixed number of requests per level, after a short
// sequential warm-up); prints throughput, latency percentiles and how many runs were ok, refused (429) or
// failed, with the service's admission settings. Not a test: it asserts nothing, and exits non-zero only
// when its arguments are wrong or no request at all succeeded. eng/bench-api.sh starts and stops the service.
if (args is ["free-port"])
{
    // For the driver script: a port the kernel just handed out on loopback, so two benches never collide.
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    Console.WriteLine(((IPEndPoint)listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture));
    return 0;
}

if (BenchOptions.Parse(args, out var error) is not { } options)
{
    Console.Error.WriteLine($"bench-api: {error}\n{BenchOptions.Usage}");
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

var cores = Environment.ProcessorCount;
using var client = new RunClient(options.BaseAddress, options.RequestTimeout, maxConnections: Math.Max(64, 4 * options.Concurrency.Max()), options.Backend, options.Session);
try
{
    var metrics = await client.ReadMetricsAsync(stop.Token);
    var maxRuns = Gauge(metrics, "sandbox_max_concurrent_runs");
    var maxQueue = Gauge(metrics, "sandbox_max_queue_length");
    Console.WriteLine(Invariant($"bench-api: {options.BaseAddress} driven from a separate client process; machine: {cores} cores"));
    Console.WriteLine(Invariant(
        $"service: MaxConcurrentRuns {Show(maxRuns)}, MaxQueueLength {Show(maxQueue)} (defaults: cores = {cores}, 4 x cores = {4 * cores})") +
        (maxRuns is { } r && maxQueue is { } q ? Invariant($"; {r + q} runs in flight at most, past that 429") : ""));
    Console.WriteLine(Invariant(
        $"load: {(options.Session is null ? "Python print('hello')" : $"a cell printing x + 1 in one warm {options.Session} session")}, closed loop, concurrency {string.Join('/', options.Concurrency)} with {string.Join('/', options.Requests)} requests, paced {string.Join('/', options.IntervalMs)} ms; 429s counted, never retried"));

    if (await client.PrepareAsync(stop.Token) is { } prepareError)
    {
        Console.Error.WriteLine("bench-api: " + prepareError);
        return 1;
    }

    var warm = new List<RunSample>();
    for (var i = 0; i < options.Warmup; i++)
    {
        warm.Add(await client.RunOnceAsync(stop.Token));
    }

    // As many again at the highest level's concurrency: the service's code for concurrent runs (queueing, pool misses,
    // overlapping store commits) is still compiled to its last tier during the first such runs, measured at 12-17 ms of the
    // service's CPU per run at concurrency 8 right after 40 sequential warm-ups, against 6-8 once warm (issue 13).
    var warmConcurrency = options.Concurrency.DefaultIfEmpty(1).Max();
    var warmConcurrent = options.Warmup > 0 && warmConcurrency > 1
        ? (await LoadLevel.RunAsync(client, warmConcurrency, options.Warmup, 0, stop.Token)).Samples
        : [];
    warm.AddRange(warmConcurrent);

    if (options.Warmup > 0)
    {
        var okWarm = warm.Count(s => s.Outcome == SampleOutcome.Ok);
        Console.WriteLine(Invariant($"warm-up: {okWarm} of {warm.Count} runs ok ({options.Warmup} sequential") +
            (warmConcurrent.Count > 0 ? Invariant($", then {warmConcurrent.Count} at concurrency {warmConcurrency}") : "") +
            Invariant($"), last {warm[^1].LatencyMs:0} ms (not counted)") +
            (warm.FirstOrDefault(s => s.Error is not null)?.Error is { } warmError ? "; first failure: " + warmError : ""));
    }

    Console.WriteLine();
    Console.WriteLine(Invariant(
        $"{"concurrency",11} {"pace ms",7} {"requests",8} {"2xx ok",6} {"429",5} {"errors",6} {"runs/s",7} {"p50 ms",8} {"p99 ms",8} {"queue p50",9} {"run p50",8} {"pool hit/miss",13}  Retry-After seen"));
    var levels = new List<LevelResult>();
    for (var i = 0; i < options.Concurrency.Count; i++)
    {
        // Every level starts with a full warm pool, so one level's misses are its own and not the previous level's drain.
        var before = await WaitForFullPoolAsync(client, stop.Token);
        var level = await LoadLevel.RunAsync(client, options.Concurrency[i], options.Requests[i], options.IntervalMs[i], stop.Token);
        var after = await client.ReadMetricsAsync(stop.Token);
        level = level with { Pool = PoolDelta(before, after) };
        levels.Add(level);
        var pool = level.Pool is { } p ? Invariant($"{p.Hits}/{p.Misses}") : "-";
        var retry = level.RetryAfters;
        var retryText = retry.Count == 0 ? "-" : Invariant($"{retry.Count} ({retry.Min()}-{retry.Max()} s)");
        Console.WriteLine(Invariant(
            $"{level.Concurrency,11} {level.IntervalMs,7} {level.Samples.Count,8} {level.Ok,6} {level.Refused,5} {level.Errors,6} {level.RunsPerSecond,7:0.00} {Ms(level.OkLatency(50)),8} {Ms(level.OkLatency(99)),8} {Ms(level.QueueMs(50)),9} {Ms(level.RunMs(50)),8} {pool,13}  {retryText}"));
    }

    Console.WriteLine();
    Console.WriteLine("runs/s: 2xx ok runs per second of the level's wall time. p50/p99: client-side latency of the ok runs (POST sent to whole answer");
    Console.WriteLine("read; nearest rank, so with 20 requests p99 is the slowest). queue/run p50: the service's own queueMs and runMs for those runs.");
    Console.WriteLine("pace ms: each worker sends at most one request per this many ms (0: back to back). pool hit/miss: Docker runs that claimed a");
    Console.WriteLine("warm container / started cold during the level (/metrics before and after; each level starts once the pool is full; - without a pool).");
    var notes = levels.SelectMany(l => l.Samples).Where(s => s.Error is not null).GroupBy(s => s.Error!, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ToList();
    foreach (var note in notes.Take(8))
    {
        Console.WriteLine(Invariant($"  {note.Count()} x {note.Key}"));
    }

    if (levels.Sum(l => l.Ok) == 0)
    {
        Console.Error.WriteLine("bench-api: every request failed; see the notes above and the service's log");
        return 1;
    }

    return 0;
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.Error.WriteLine("bench-api: interrupted");
    return 130;
}

static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

static long? Gauge(IReadOnlyDictionary<string, double> metrics, string name) => metrics.TryGetValue(name, out var value) ? (long)value : null;

// Waits (up to 30 s) until every warm pool is full again, and returns the metrics then; at once without a pool.
static async Task<IReadOnlyDictionary<string, double>> WaitForFullPoolAsync(RunClient client, CancellationToken cancellationToken)
{
    var deadline = Stopwatch.GetTimestamp() + (30 * Stopwatch.Frequency);
    while (true)
    {
        var metrics = await client.ReadMetricsAsync(cancellationToken);
        if (!metrics.TryGetValue("sandbox_warm_pool_idle", out var idle) || idle >= metrics.GetValueOrDefault("sandbox_warm_pool_size") || Stopwatch.GetTimestamp() > deadline)
        {
            return metrics;
        }

        await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
    }
}

static (long Hits, long Misses)? PoolDelta(IReadOnlyDictionary<string, double> before, IReadOnlyDictionary<string, double> after) =>
    before.TryGetValue("sandbox_warm_pool_hits_total", out var hits0) && after.TryGetValue("sandbox_warm_pool_hits_total", out var hits1)
        ? ((long)(hits1 - hits0), (long)(after.GetValueOrDefault("sandbox_warm_pool_misses_total") - before.GetValueOrDefault("sandbox_warm_pool_misses_total")))
        : null;

static string Show(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "unknown";

static string Ms(double? value) => value?.ToString("0.0", CultureInfo.InvariantCulture) ?? "-";
