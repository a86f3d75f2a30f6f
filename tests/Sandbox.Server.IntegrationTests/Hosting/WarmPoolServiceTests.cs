using System.Diagnostics;
using System.Net;
using Sandbox.Server.IntegrationTests.Http;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Hosting;

/// <summary>
/// The Docker backend's warm pool as the service runs it (default settings: two Python containers): the dry run tells
/// whether a run would start warm, <c>/metrics</c> counts hits and misses, and a real <c>sandbox serve</c> removes its
/// idle containers when it stops.
/// </summary>
[Trait("Category", "Integration")]
public sealed class WarmPoolServiceTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DryRunAndMetrics_DefaultPool_SayWarmAndCountTheClaim()
    {
        await using var factory = new SandboxApiFactory();
        using var client = factory.CreateClient();

        await WaitUntilAsync(async () =>
            (await (await client.PostRunAsync(new { language = "python", code = "print(1)", dryRun = true })).JsonAsync())["warmContainer"]?.GetValue<bool>() == true);
        var lowered = await (await client.PostRunAsync(new { language = "python", code = "print(1)", dryRun = true, limits = new { memoryBytes = 64L * 1024 * 1024 } })).JsonAsync();
        lowered["warmContainer"]!.GetValue<bool>().ShouldBeFalse();
        var bash = await (await client.PostRunAsync(new { language = "bash", code = "echo 1", dryRun = true })).JsonAsync();
        bash["warmContainer"]!.GetValue<bool>().ShouldBeFalse();

        var run = await (await client.PostRunAsync(new { language = "python", code = "print(1+1)" })).JsonAsync();
        run["result"]!["status"]!.GetValue<string>().ShouldBe("ok");
        run["result"]!["stdout"]!.GetValue<string>().ShouldBe("2\n");

        var metrics = await client.GetStringAsync("/metrics", Token);
        metrics.ShouldContain("sandbox_warm_pool_hits_total 1\n");
        metrics.ShouldContain("sandbox_warm_pool_misses_total 0\n");
        // The pool runs the profile's own runtime (the shipped python profile names crun).
        var runtime = run["result"]!["runtime"]!.GetValue<string>();
        metrics.ShouldContain($"sandbox_warm_pool_size{{pool=\"python\",runtime=\"{runtime}\"}} 2\n");
        metrics.ShouldContain("sandbox_warm_pool_refill_seconds_count");
    }

    [Fact]
    public async Task Serve_SigTerm_RemovesItsIdlePoolContainers()
    {
        var data = Path.Join(Path.GetTempPath(), "sandbox-pool-" + Guid.NewGuid().ToString("N"));
        using var serve = ServeProcess.Start(data, SandboxApiFactory.AdminKey);
        await serve.WaitHealthyAsync(Token);
        // The service names its pool label itself: other services on the same daemon (this test process's, services other
        // tests start and kill) keep pools of their own, started at any moment.
        var ours = "";
        await WaitUntilAsync(async () =>
        {
            using var metrics = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            metrics.Headers.Authorization = new("Bearer", SandboxApiFactory.AdminKey);
            var text = await (await serve.Http.SendAsync(metrics, Token)).Content.ReadAsStringAsync(Token);
            ours = System.Text.RegularExpressions.Regex.Match(text, "sandbox_warm_pool_info\\{instance=\"(p[0-9a-f]{12})\"\\} 1").Groups[1].Value;
            return ours.Length > 0;
        });
        ours.ShouldNotBe(Docker.Pooling.WarmPool.Instance);
        await WaitUntilAsync(async () => (await PoolLabelsAsync()).Count(l => l.Label == ours) >= 2);

        using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", serve.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!)
        {
            await kill.WaitForExitAsync(Token);
        }

        await serve.Process.WaitForExitAsync(Token).WaitAsync(TimeSpan.FromSeconds(60), Token);
        (await PoolLabelsAsync()).Where(l => l.Label == ours).ShouldBeEmpty();
    }

    /// <summary>Every pool container on the daemon: its id and its pool label (the service process that made it).</summary>
    private static async Task<IReadOnlyList<(string Id, string Label)>> PoolLabelsAsync()
    {
        var listing = await ChildProcess.RunAsync("docker", ["ps", "-a", "--filter", "label=io.sandbox.pool", "--format", "{{.ID}} {{.Label \"io.sandbox.pool\"}}"], Path.GetTempPath());
        listing.Exit.ShouldBe(0, listing.Stderr);
        return [.. listing.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).Select(p => (p[0], p[1]))];
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), "condition not met within 60 s");
            await Task.Delay(200, Token);
        }
    }
}
