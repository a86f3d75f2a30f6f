using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Docker;
using Sandbox.Docker.Client;

namespace Sandbox.Bench;

/// <summary>
/// <c>make bench-runtimes</c>: the same hardened Python hello through our own backend, with only the container runtime
/// changed (the request's <c>runtime</c>), under runc, crun and runsc. Two figures per runtime:
/// sequential create+start+wait+remove latency (p50/p99), and the machine's container rate: whole runs (one container
/// each, created, started, waited for and removed) per second at concurrency 8. Not a test: it asserts nothing.
/// </summary>
internal static class RuntimeBench
{
    private const string Hello = "print('hello')\n";
    private const int Concurrency = 8;

    /// <summary>Arguments: <c>[--runs N] [--concurrent N] [--repo DIR] [runtime ...]</c> (default all three).</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        int runs = 30, concurrent = 64;
        var repo = ".";
        var runtimes = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--concurrent": concurrent = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--repo": repo = args[++i]; break;
                default:
                    if (!RuntimeNames.IsContainer(args[i]))
                    {
                        Console.Error.WriteLine($"bench-runtimes: runtime must be {RuntimeNames.ContainerList} (got '{args[i]}')");
                        return 2;
                    }

                    runtimes.Add(args[i]);
                    break;
            }
        }

        if (runtimes.Count == 0)
        {
            runtimes.AddRange(RuntimeNames.Container);
        }

        var profiles = ProfileLoader.LoadTree(Path.Join(repo, "images"), "profile.json");
        var time = TimeProvider.System;
        using var client = DockerClient.FromEnvironment();
        var pipeline = new RunPipeline(profiles, [DockerSandbox.Create(client, time, NullLoggerFactory.Instance).Backend], time, NullLogger<RunPipeline>.Instance);

        var info = await client.GetInfoAsync(CancellationToken.None);
        var missing = runtimes.Where(r => info.Runtimes?.ContainsKey(r) != true).ToList();
        if (missing.Count > 0)
        {
            Console.Error.WriteLine($"bench-runtimes: dockerd does not list {string.Join(", ", missing)}; run `bash eng/docker-up.sh`");
            return 1;
        }

        var errors = runtimes.ToDictionary(r => r, _ => 0, StringComparer.Ordinal);
        async Task<double> OneAsync(string runtime)
        {
            var started = time.GetTimestamp();
            var result = await pipeline.RunAsync(new RunRequest { Language = "python", Code = Hello, Runtime = runtime }, CancellationToken.None);
            var ms = time.GetElapsedTime(started).TotalMilliseconds;
            if (result.Status != RunStatus.Ok || result.Stdout != "hello\n" || result.Runtime != runtime)
            {
                lock (errors)
                {
                    errors[runtime]++;
                }

                Console.Error.WriteLine($"bench-runtimes: {runtime}: {result.Status.ToWireName()} {result.Message} {result.Stderr}");
            }

            return ms;
        }

        Console.WriteLine($"bench-runtimes: python hello through our Docker backend; {runs} sequential runs per runtime (interleaved), "
            + $"then {concurrent} runs per runtime at concurrency {Concurrency}; runtimes {string.Join(", ", runtimes)}");
        foreach (var runtime in runtimes)
        {
            await OneAsync(runtime); // warm-up: image layers, the runtime binary and its shared libraries in the page cache
        }

        // Sequential, round-robin across the runtimes, so the machine's drift (other tenants) falls on all of them alike.
        var latency = runtimes.ToDictionary(r => r, _ => new List<double>(), StringComparer.Ordinal);
        for (var i = 0; i < runs; i++)
        {
            foreach (var runtime in runtimes)
            {
                latency[runtime].Add(await OneAsync(runtime));
            }
        }

        // Concurrent: half of each runtime's runs in the order given, half in reverse, so neither end of the drift favours one.
        var elapsed = runtimes.ToDictionary(r => r, _ => TimeSpan.Zero, StringComparer.Ordinal);
        var done = runtimes.ToDictionary(r => r, _ => 0, StringComparer.Ordinal);
        // --concurrent 0 skips this part (a paired whole-process comparison of the sequential part alone).
        foreach (var order in concurrent > 0 ? new[] { runtimes, Enumerable.Reverse(runtimes).ToList() } : [])
        {
            foreach (var runtime in order)
            {
                var count = order == runtimes ? concurrent / 2 : concurrent - concurrent / 2;
                var started = time.GetTimestamp();
                await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (_, _) => await OneAsync(runtime));
                elapsed[runtime] += time.GetElapsedTime(started);
                done[runtime] += count;
            }
        }

        Console.WriteLine(Row("runtime", "p50 ms", "p99 ms", "mean ms", $"c{Concurrency} runs/s", "errors"));
        foreach (var runtime in runtimes)
        {
            var l = latency[runtime];
            Console.WriteLine(Row(runtime, F(Percentile(l, 50)), F(Percentile(l, 99)), F(l.Count > 0 ? l.Average() : double.NaN), F(Rate(done[runtime], elapsed[runtime]), "0.00"), errors[runtime].ToString(CultureInfo.InvariantCulture)));
        }

        if (runtimes.Count > 1)
        {
            var baseline = runtimes[0];
            foreach (var runtime in runtimes.Skip(1))
            {
                // Paired: the runs of one round ran back to back, so each round's ratio cancels the drift between rounds.
                var pairs = latency[runtime].Zip(latency[baseline], (x, y) => x / y).ToList();
                var faster = pairs.Count(r => r < 1);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{runtime}/{baseline} paired by round: median {Percentile(pairs, 50):0.00} (p25 {Percentile(pairs, 25):0.00}, p75 {Percentile(pairs, 75):0.00}); {runtime} faster in {faster} of {pairs.Count} rounds"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{runtime}/{baseline}: p50 {Percentile(latency[runtime], 50) / Percentile(latency[baseline], 50):0.00}, p99 {Percentile(latency[runtime], 99) / Percentile(latency[baseline], 99):0.00}, "
                    + $"c{Concurrency} rate {Rate(done[runtime], elapsed[runtime]) / Rate(done[baseline], elapsed[baseline]):0.00}"));
            }
        }

        // One number per runtime, for scripts (the warm pool's bench compares its sustained throughput against it).
        foreach (var runtime in runtimes)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"container rate {runtime}: {Rate(done[runtime], elapsed[runtime]):0.00} containers/s (create+start+wait+remove, concurrency {Concurrency})"));
        }

        return errors.Values.Sum() == 0 ? 0 : 1;
    }

    private static double Rate(int done, TimeSpan elapsed) => done > 0 ? done / elapsed.TotalSeconds : double.NaN;

    private static string Row(string a, string b, string c, string d, string e, string f) => $"{a,-8} {b,8} {c,8} {d,8} {e,12} {f,7}";

    private static string F(double value, string format = "0.0") => value.ToString(format, CultureInfo.InvariantCulture);

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN; // --runs 0: only the concurrent part ran
        }

        var sorted = values.Order().ToList();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }
}
