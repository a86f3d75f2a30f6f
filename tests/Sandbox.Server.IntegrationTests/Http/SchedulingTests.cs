using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Core.Runs;
using Sandbox.Server.IntegrationTests.Support;
using Sandbox.Server.Runs;

namespace Sandbox.Server.IntegrationTests.Http;

/// <summary>Back-pressure and shutdown with a deliberately tiny service: one slot, one queue place.</summary>
public sealed class SchedulingTests
{
    private static readonly Dictionary<string, string> Tiny = new()
    {
        ["Sandbox:MaxConcurrentRuns"] = "1",
        ["Sandbox:MaxQueueLength"] = "1",
    };

    [Fact]
    public async Task Overload_Answers429WithRetryAfterAtOnce_AndLosesNoAcceptedRun()
    {
        await using var factory = new SandboxApiFactory(Tiny);
        using var client = factory.CreateClient();
        var body = new { language = "python", code = "import time; time.sleep(1); print('done')", @async = true };

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => client.PostRunAsync(body)));

        var accepted = responses.Where(r => r.StatusCode == HttpStatusCode.Accepted).ToList();
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        (accepted.Count + refused.Count).ShouldBe(6, "every answer is 202 or 429, nothing else");
        accepted.Count.ShouldBe(2, "one runs and one waits");
        foreach (var r in refused)
        {
            r.Headers.RetryAfter!.Delta!.Value.TotalSeconds.ShouldBeGreaterThanOrEqualTo(1);
            ((string?)(await r.JsonAsync())["code"]).ShouldBe("queue_full");
        }

        foreach (var r in accepted)
        {
            var id = (string)(await r.JsonAsync())["id"]!;
            var done = await client.WaitForStateAsync(id, "completed", TimeSpan.FromSeconds(60));
            ((string?)done["result"]!["status"]).ShouldBe("ok");
            ((long)done["queueMs"]!).ShouldBeGreaterThanOrEqualTo(0);
        }

        var ids = await Task.WhenAll(accepted.Select(async r => (string)(await r.JsonAsync())["id"]!));
        var second = await (await client.GetAsync($"/v1/runs/{ids[1]}", TestContext.Current.CancellationToken)).JsonAsync();
        var first = await (await client.GetAsync($"/v1/runs/{ids[0]}", TestContext.Current.CancellationToken)).JsonAsync();
        Math.Max((long)first["queueMs"]!, (long)second["queueMs"]!).ShouldBeGreaterThan(500, "the queued run waited for the first one; queue time is reported apart from run time");
    }

    [Fact]
    public async Task Shutdown_KillsRunsPastTheGracePeriod_AndRecordsThemCancelled()
    {
        var settings = new Dictionary<string, string>(Tiny) { ["Sandbox:ShutdownGracePeriod"] = "00:00:01" };
        await using var factory = new SandboxApiFactory(settings);
        using var client = factory.CreateClient();
        var coordinator = factory.Services.GetRequiredService<RunLifecycle>();
        var running = (string)(await (await client.PostRunAsync(new { language = "python", code = "import time; print('up', flush=True); time.sleep(60)", @async = true })).JsonAsync())["id"]!;
        var queued = (string)(await (await client.PostRunAsync(new { language = "python", code = "print('never')", @async = true })).JsonAsync())["id"]!;
        await client.WaitForStateAsync(running, "running", TimeSpan.FromSeconds(20));
        var runningEntry = coordinator.Find(running, factory.DefaultPrincipal)!;
        var queuedEntry = coordinator.Find(queued, factory.DefaultPrincipal)!;

        // What the host's stop does (SandboxService.StopAsync), called directly: the test host's own disposal
        // tears its services down in an order a real process never sees.
        await coordinator.ShutdownAsync(TestContext.Current.CancellationToken);
        using var refused = await client.PostRunAsync(new { language = "python", code = "print(1)" });

        runningEntry.State.ShouldBe(RunState.Completed);
        runningEntry.Result!.Status.ShouldBe(RunStatus.Cancelled, runningEntry.Result.Message);
        runningEntry.Result.Message!.ShouldContain("grace period");
        queuedEntry.Result!.Status.ShouldBe(RunStatus.Cancelled);
        queuedEntry.Result.Message!.ShouldContain("before the run started");
        (await DockerProbe.ContainersOfRunAsync(running)).ShouldBeEmpty();
        refused.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable, "a stopping service accepts no new runs");
        ((string?)(await refused.JsonAsync())["code"]).ShouldBe("shutting_down");
    }
}
