using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Store;

namespace Sandbox.Server.IntegrationTests.Faults;

/// <summary>
/// Fault 8 of issue 11: an open synchronous POST delayed SIGTERM by up to 15 s, and queued runs started after the
/// signal. SIGTERM to a real <c>sandbox serve</c> with a synchronous POST open and a run queued behind it: admission
/// stops at once, the queued run never starts, the running one gets the grace period and no more, every run is
/// recorded as what happened to it, its container is gone, and after a restart the one-slot agent runs again.
/// </summary>
[Collection(FaultInjectionCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ShutdownWithOpenPostTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sigterm_WithASynchronousPostOpen_StopsAdmissionAtOnceAndHonoursTheGracePeriod()
    {
        await using var service = FaultService.Create("shutdown");
        var holder = await service.CreateAgentAsync("shutdown-holder");
        var waiter = await service.CreateAgentAsync("shutdown-waiter");
        var serve = await service.StartAsync(new Dictionary<string, string>
        {
            ["Sandbox__MaxConcurrentRuns"] = "1",
            ["Sandbox__ShutdownGracePeriod"] = "00:00:02",
        });
        var synchronous = PostAsync(serve, holder, new { language = "bash", code = "echo started; sleep 60", purpose = "hold the only slot" });
        await WaitAsync(async () => (await MetricAsync(serve, "sandbox_concurrent_runs")) >= 1, "the first run to start");
        var queued = await PostAsync(serve, waiter, new { language = "bash", code = "echo must-not-run", @async = true, purpose = "wait in the queue" });
        var queuedId = (string)queued["id"]!;
        service.RunIds.Add(queuedId);

        var clock = Stopwatch.StartNew();
        Signal(serve.Process.Id, 15);
        await Task.Delay(300, Token);
        try
        {
            var late = await PostAsync(serve, waiter, new { language = "bash", code = "echo late", purpose = "after SIGTERM" }, expectOk: false);
            ((string?)late["code"]).ShouldBe("shutting_down", late.ToJsonString());
        }
        catch (HttpRequestException)
        {
            // The listener is already closed: refused at once is refused too.
        }

        var answered = await synchronous;
        var runningId = (string)answered["id"]!;
        service.RunIds.Add(runningId);
        var first = answered["result"]!;
        ((string?)first["status"]).ShouldBe("cancelled", first.ToJsonString());
        await serve.Process.WaitForExitAsync(Token).WaitAsync(TimeSpan.FromSeconds(30), Token);
        var exited = clock.Elapsed;
        exited.ShouldBeLessThan(Grace + TimeSpan.FromSeconds(8), "the grace period is honoured, not the open request's patience");
        await service.AssertNoContainerLeftAsync(TimeSpan.FromSeconds(5));

        await using (var after = await SqliteGuardStore.OpenAsync(GuardPaths.Database(service.Data), TimeProvider.System, Token))
        {
            var records = await after.QueryAuditAsync(new AuditQuery { RunId = queuedId }, Token);
            records.Count(r => r.Kind == "receipt").ShouldBe(1);
            var result = records.Single(r => r.Kind == "result");
            result.Status.ShouldBe("cancelled");
            ((string?)JsonNode.Parse(result.Data)!["message"]).ShouldNotBeNull().ShouldContain("before the run started");
            (await after.QueryAuditAsync(new AuditQuery { RunId = runningId, Kind = "result" }, Token)).Single().Status.ShouldBe("cancelled", "the running run is recorded as what its caller was told");
        }

        // After a restart both runs read back as they were answered, and neither agent is locked out.
        await service.StartAsync();
        foreach (var (key, id) in new[] { (holder, runningId), (waiter, queuedId) })
        {
            var (status, view) = await service.GetRunAsync(key, id);
            status.ShouldBe(HttpStatusCode.OK, view?.ToJsonString());
            ((string?)view!["result"]!["status"]).ShouldBe("cancelled", view.ToJsonString());
        }

        await service.AssertFollowUpAdmittedAsync(holder, "shutdown-holder");
        await service.AssertFollowUpAdmittedAsync(waiter, "shutdown-waiter");
        FaultService.Report(FaultService.Invariant($"fault 8: SIGTERM to exit {exited.TotalSeconds:0.00} s with a 2 s grace; RSS after restart {service.RssMiB():0} MiB"));
        service.Serve!.Kill();
        await service.AssertAuditIntactAsync();
    }

    private static async Task<JsonObject> PostAsync(Support.ServeProcess serve, string key, object body, bool expectOk = true)
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/runs") { Content = JsonContent.Create(body) };
        post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await serve.Http.SendAsync(post, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        if (expectOk)
        {
            response.StatusCode.ShouldBeOneOf([HttpStatusCode.OK, HttpStatusCode.Accepted], text);
        }

        return (JsonObject)JsonNode.Parse(text)!;
    }

    private static async Task<double> MetricAsync(Support.ServeProcess serve, string name)
    {
        var text = await serve.Http.GetStringAsync("/metrics", Token);
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "waiting for " + what);
            await Task.Delay(100, Token);
        }
    }

    private static void Signal(int pid, int signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!;
        kill.WaitForExit();
    }
}
