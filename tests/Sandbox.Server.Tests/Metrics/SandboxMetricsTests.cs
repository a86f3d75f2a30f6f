using Sandbox.Server.Metrics;

namespace Sandbox.Server.Tests.Metrics;

public sealed class SandboxMetricsTests
{
    private static readonly string[] s_families =
    [
        "sandbox_runs_total", "sandbox_run_duration_seconds", "sandbox_queue_wait_seconds", "sandbox_refusals_total",
    ];

    [Fact]
    public void Render_Empty_HasHelpAndTypeForEveryFamily()
    {
        var parsed = PrometheusText.Parse(new SandboxMetrics().Render());

        parsed.Types["sandbox_runs_total"].ShouldBe("counter");
        parsed.Types["sandbox_refusals_total"].ShouldBe("counter");
        parsed.Types["sandbox_run_duration_seconds"].ShouldBe("histogram");
        parsed.Types["sandbox_queue_wait_seconds"].ShouldBe("histogram");
        foreach (var family in s_families)
        {
            parsed.Help[family].ShouldNotBeNullOrWhiteSpace();
        }

        // No observations yet: the unlabelled queue-wait histogram is all zero, and no gauges until a scheduler is observed.
        parsed.Value("sandbox_queue_wait_seconds_count").ShouldBe(0);
        parsed.Types.ContainsKey("sandbox_queue_depth").ShouldBeFalse();
    }

    [Fact]
    public void Render_HelpAndTypeLines_PrecedeTheirSamples()
    {
        var metrics = new SandboxMetrics();
        metrics.RecordRun("ok", "docker", TimeSpan.FromMilliseconds(3), TimeSpan.FromSeconds(1));
        metrics.RecordRefusal("queue_full");
        metrics.ObserveScheduler(() => 1, () => 2, 4, 16);

        var lines = metrics.Render().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        string? current = null;
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith("# HELP ", StringComparison.Ordinal))
            {
                current = lines[i].Split(' ')[2];
                lines[i + 1].ShouldStartWith("# TYPE " + current + " ");
                i++;
                continue;
            }

            current.ShouldNotBeNull();
            var name = lines[i].Split(' ', '{')[0];
            (name == current || name == current + "_bucket" || name == current + "_sum" || name == current + "_count")
                .ShouldBeTrue($"{name} under # TYPE {current}");
        }
    }

    [Fact]
    public void RecordRun_CountsByStatusAndBackend()
    {
        var metrics = new SandboxMetrics();
        metrics.RecordRun("ok", "docker", TimeSpan.Zero, TimeSpan.FromSeconds(1));
        metrics.RecordRun("ok", "docker", TimeSpan.Zero, TimeSpan.FromSeconds(1));
        metrics.RecordRun("timeout", "docker", TimeSpan.Zero, TimeSpan.FromSeconds(10));
        metrics.RecordRun("ok", "wasm", TimeSpan.Zero, TimeSpan.FromMilliseconds(4));

        var parsed = PrometheusText.Parse(metrics.Render());

        parsed.Value("sandbox_runs_total", ("status", "ok"), ("backend", "docker")).ShouldBe(2);
        parsed.Value("sandbox_runs_total", ("status", "timeout"), ("backend", "docker")).ShouldBe(1);
        parsed.Value("sandbox_runs_total", ("status", "ok"), ("backend", "wasm")).ShouldBe(1);
        parsed.Value("sandbox_run_duration_seconds_count", ("backend", "docker")).ShouldBe(3);
        parsed.Value("sandbox_run_duration_seconds_sum", ("backend", "docker")).ShouldBe(12, tolerance: 1e-9);
        parsed.Value("sandbox_run_duration_seconds_count", ("backend", "wasm")).ShouldBe(1);
        parsed.Value("sandbox_queue_wait_seconds_count").ShouldBe(4);
    }

    [Fact]
    public void RecordRun_Buckets_AreCumulativeWithInfAndLeInclusive()
    {
        var metrics = new SandboxMetrics();
        metrics.RecordRun("ok", "docker", TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1)); // exactly on a bound: le includes it
        metrics.RecordRun("ok", "docker", TimeSpan.FromMilliseconds(7), TimeSpan.FromMilliseconds(30));
        metrics.RecordRun("ok", "docker", TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2));
        metrics.RecordRun("ok", "docker", TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5)); // beyond the last bound: +Inf only

        var parsed = PrometheusText.Parse(metrics.Render());

        var buckets = parsed.Series("sandbox_queue_wait_seconds_bucket").ToList();
        buckets.Select(b => b.Labels["le"]).ShouldBe(
            ["0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "+Inf"]);
        buckets.Select(b => b.Value).ShouldBe([1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4]);
        parsed.Value("sandbox_queue_wait_seconds_count").ShouldBe(4);
        parsed.Value("sandbox_queue_wait_seconds_sum").ShouldBe(0.001 + 0.007 + 2 + 300, tolerance: 1e-9);

        var durations = parsed.Series("sandbox_run_duration_seconds_bucket").ToList();
        durations.ShouldAllBe(b => b.Labels["backend"] == "docker");
        durations.Select(b => b.Value).ShouldBe([1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4]);
    }

    [Fact]
    public void RecordRun_BucketLabel_ComesAfterTheOtherLabels()
    {
        var metrics = new SandboxMetrics();
        metrics.RecordRun("ok", "wasm", TimeSpan.Zero, TimeSpan.Zero);

        metrics.Render().ShouldContain("sandbox_run_duration_seconds_bucket{backend=\"wasm\",le=\"0.001\"} 1\n");
    }

    [Fact]
    public void RecordRun_NegativeDuration_CountsAsZero()
    {
        var metrics = new SandboxMetrics();
        metrics.RecordRun("ok", "docker", TimeSpan.FromSeconds(-1), TimeSpan.FromSeconds(-1));

        var parsed = PrometheusText.Parse(metrics.Render());

        parsed.Value("sandbox_queue_wait_seconds_sum").ShouldBe(0);
        parsed.Value("sandbox_queue_wait_seconds_bucket", ("le", "0.001")).ShouldBe(1);
    }

    [Fact]
    public void RecordRefusal_CountsByReason()
    {
        var metrics = new SandboxMetrics();
        metrics.RecordRefusal("queue_full");
        metrics.RecordRefusal("queue_full");
        metrics.RecordRefusal("shutting_down");

        var parsed = PrometheusText.Parse(metrics.Render());

        parsed.Value("sandbox_refusals_total", ("reason", "queue_full")).ShouldBe(2);
        parsed.Value("sandbox_refusals_total", ("reason", "shutting_down")).ShouldBe(1);
        parsed.Series("sandbox_refusals_total").Count().ShouldBe(2);
    }

    [Fact]
    public void Render_LabelValues_AreEscaped()
    {
        var metrics = new SandboxMetrics();
        metrics.RecordRefusal("back\\slash \"quoted\"\nnewline");

        var text = metrics.Render();

        text.ShouldContain("sandbox_refusals_total{reason=\"back\\\\slash \\\"quoted\\\"\\nnewline\"} 1\n");
        PrometheusText.Parse(text).Value("sandbox_refusals_total", ("reason", "back\\slash \"quoted\"\nnewline")).ShouldBe(1);
    }

    [Fact]
    public void ObserveScheduler_GaugesAreReadAtScrapeTime()
    {
        var metrics = new SandboxMetrics();
        var depth = 3;
        var running = 1;
        metrics.ObserveScheduler(() => depth, () => running, 4, 64);

        var first = PrometheusText.Parse(metrics.Render());
        depth = 0;
        running = 4;
        var second = PrometheusText.Parse(metrics.Render());

        foreach (var gauge in new[] { "sandbox_queue_depth", "sandbox_concurrent_runs", "sandbox_max_concurrent_runs", "sandbox_max_queue_length" })
        {
            first.Types[gauge].ShouldBe("gauge");
        }

        first.Value("sandbox_queue_depth").ShouldBe(3);
        first.Value("sandbox_concurrent_runs").ShouldBe(1);
        second.Value("sandbox_queue_depth").ShouldBe(0);
        second.Value("sandbox_concurrent_runs").ShouldBe(4);
        second.Value("sandbox_max_concurrent_runs").ShouldBe(4);
        second.Value("sandbox_max_queue_length").ShouldBe(64);
    }

    [Fact]
    public void Render_CountersEndInTotal()
    {
        var metrics = new SandboxMetrics();
        metrics.RecordRun("ok", "docker", TimeSpan.Zero, TimeSpan.Zero);
        metrics.RecordRefusal("invalid_request");

        var parsed = PrometheusText.Parse(metrics.Render());

        parsed.Types.Where(t => t.Value == "counter").ShouldAllBe(t => t.Key.EndsWith("_total", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RecordRun_FromManyThreads_LosesNoCount()
    {
        const int Threads = 16;
        const int PerThread = 5_000;
        var metrics = new SandboxMetrics();
        using var start = new ManualResetEventSlim();
        var scrapes = 0;

        var workers = Enumerable.Range(0, Threads).Select(t => Task.Factory.StartNew(
            () =>
            {
                start.Wait(TestContext.Current.CancellationToken);
                for (var i = 0; i < PerThread; i++)
                {
                    var backend = t % 2 == 0 ? "docker" : "wasm";
                    metrics.RecordRun(i % 3 == 0 ? "timeout" : "ok", backend, TimeSpan.FromMilliseconds(i % 100), TimeSpan.FromMilliseconds(10));
                    if (i % 7 == 0)
                    {
                        metrics.RecordRefusal("queue_full");
                    }

                    if (t == 0 && i % 500 == 0)
                    {
                        // Scrapes while others write must stay well-formed: _count equals the +Inf bucket.
                        var snapshot = PrometheusText.Parse(metrics.Render());
                        snapshot.Value("sandbox_queue_wait_seconds_count")
                            .ShouldBe(snapshot.Value("sandbox_queue_wait_seconds_bucket", ("le", "+Inf")));
                        Interlocked.Increment(ref scrapes);
                    }
                }
            },
            TestContext.Current.CancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();
        start.Set();
        await Task.WhenAll(workers);

        var parsed = PrometheusText.Parse(metrics.Render());

        scrapes.ShouldBeGreaterThan(0);
        var timeoutsPerThread = Enumerable.Range(0, PerThread).Count(i => i % 3 == 0);
        var refusalsPerThread = Enumerable.Range(0, PerThread).Count(i => i % 7 == 0);
        foreach (var backend in new[] { "docker", "wasm" })
        {
            parsed.Value("sandbox_runs_total", ("status", "timeout"), ("backend", backend)).ShouldBe(Threads / 2 * timeoutsPerThread);
            parsed.Value("sandbox_runs_total", ("status", "ok"), ("backend", backend)).ShouldBe(Threads / 2 * (PerThread - timeoutsPerThread));
            parsed.Value("sandbox_run_duration_seconds_count", ("backend", backend)).ShouldBe(Threads / 2 * PerThread);
            parsed.Value("sandbox_run_duration_seconds_sum", ("backend", backend)).ShouldBe(Threads / 2 * PerThread * 0.01, tolerance: 1e-6);
        }

        parsed.Value("sandbox_queue_wait_seconds_count").ShouldBe(Threads * PerThread);
        parsed.Value("sandbox_refusals_total", ("reason", "queue_full")).ShouldBe(Threads * refusalsPerThread);
        var expectedWaitSum = Threads * Enumerable.Range(0, PerThread).Sum(i => (i % 100) / 1000.0);
        parsed.Value("sandbox_queue_wait_seconds_sum").ShouldBe(expectedWaitSum, tolerance: 1e-6);
    }

    [Fact]
    public async Task Render_WhileNewSeriesAppear_NeverThrows()
    {
        // A scrape used to sort the live dictionaries; LINQ sized its buffer from Count and then copied, so a
        // series added in between threw ArgumentException out of Render (seen once in CI). Render now snapshots first.
        const int NewSeries = 60_000;
        var metrics = new SandboxMetrics();
        using var started = new ManualResetEventSlim();
        var writer = Task.Run(() =>
        {
            started.Set();
            for (var i = 0; i < NewSeries; i++)
            {
                metrics.RecordRefusal($"reason_{i}");
                metrics.RecordRun("ok", $"backend_{i % 200}", TimeSpan.Zero, TimeSpan.Zero);
            }
        }, TestContext.Current.CancellationToken);

        started.Wait(TestContext.Current.CancellationToken);
        var scrapes = 0;
        while (!writer.IsCompleted)
        {
            PrometheusText.Parse(metrics.Render());
            scrapes++;
        }

        await writer;
        scrapes.ShouldBeGreaterThan(0);
        PrometheusText.Parse(metrics.Render()).Value("sandbox_refusals_total", ("reason", $"reason_{NewSeries - 1}")).ShouldBe(1);
    }
}
