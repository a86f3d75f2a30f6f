using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Store;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Hosting;

/// <summary>
/// SIGTERM to a real <c>sandbox serve</c> with a synchronous POST open and a run queued behind it: admission stops at
/// once, the queued run never starts, the running one gets the grace period and no more, and every run is recorded.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ShutdownTests
{
    private const string AdminKey = "shutdown-test-admin-key-0123456789abcdef0123456789";
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sigterm_WithASynchronousPostOpen_StopsAdmissionAtOnceAndHonoursTheGracePeriod()
    {
        var data = Path.Join(Path.GetTempPath(), "sandbox-shutdown-" + Guid.NewGuid().ToString("N"));
        string key;
        await using (var store = await SqliteGuardStore.OpenAsync(GuardPaths.Database(data), TimeProvider.System, Token))
        {
            var created = await new AgentAdmin(store, TimeProvider.System).CreateAsync(new AgentSpec { Name = "shutdown", Profiles = ["bash"], MaxConcurrentRuns = 4 }, "test", Token);
            key = created.Value.ShouldNotBeNull(created.Message).Key;
        }

        using var serve = ServeProcess.Start(data, AdminKey, environment: new Dictionary<string, string>
        {
            ["Sandbox__MaxConcurrentRuns"] = "1",
            ["Sandbox__ShutdownGracePeriod"] = "00:00:02",
        });
        await serve.WaitHealthyAsync(Token);
        var synchronous = PostAsync(serve, key, new { language = "bash", code = "echo started; sleep 60", purpose = "hold the only slot" });
        await WaitAsync(async () => (await MetricAsync(serve, "sandbox_concurrent_runs")) >= 1, "the first run to start");
        var queued = await PostAsync(serve, key, new { language = "bash", code = "echo must-not-run", @async = true, purpose = "wait in the queue" });
        var queuedId = (string)queued["id"]!;

        var clock = Stopwatch.StartNew();
        Signal(serve.Process.Id, 15);
        await Task.Delay(300, Token);
        try
        {
            var late = await PostAsync(serve, key, new { language = "bash", code = "echo late", purpose = "after SIGTERM" }, expectOk: false);
            ((string?)late["code"]).ShouldBe("shutting_down", late.ToJsonString());
        }
        catch (HttpRequestException)
        {
            // The listener is already closed: refused at once is refused too.
        }

        var first = (await synchronous)["result"]!;
        ((string?)first["status"]).ShouldBe("cancelled", first.ToJsonString());
        await serve.Process.WaitForExitAsync(Token).WaitAsync(TimeSpan.FromSeconds(30), Token);
        clock.Elapsed.ShouldBeLessThan(Grace + TimeSpan.FromSeconds(8), "the grace period is honoured, not the open request's patience");

        await using var after = await SqliteGuardStore.OpenAsync(GuardPaths.Database(data), TimeProvider.System, Token);
        var records = await after.QueryAuditAsync(new AuditQuery { RunId = queuedId }, Token);
        var result = records.Single(r => r.Kind == "result");
        result.Status.ShouldBe("cancelled");
        ((string?)JsonNode.Parse(result.Data)!["message"]).ShouldNotBeNull().ShouldContain("before the run started");
        Directory.Delete(data, recursive: true);
    }

    private static async Task<JsonObject> PostAsync(ServeProcess serve, string key, object body, bool expectOk = true)
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

    private static async Task<double> MetricAsync(ServeProcess serve, string name)
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
