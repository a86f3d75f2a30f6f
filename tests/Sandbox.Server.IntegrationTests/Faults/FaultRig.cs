using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Store;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Faults;

/// <summary>
/// One fault's world: a data folder with agents capped at one concurrent run each, a real <c>sandbox serve</c> over it
/// (restartable on the same port), and the checks every fault ends with: each accepted run recorded exactly once and
/// never run twice, no slot left held (a follow-up run of the same agent is admitted at cap 1), no labelled container
/// left 5 s after recovery, and the audit chain intact.
/// </summary>
internal sealed class FaultRig : IAsyncDisposable
{
    public const string AdminKey = "fault-rig-admin-key-0123456789abcdef0123456789ab";

    private readonly string _data;
    private readonly int _port = ServeProcess.FreePort();
    private readonly List<string> _runIds = [];

    private FaultRig(string data, IReadOnlyList<string> keys)
    {
        _data = data;
        Keys = keys;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_port}"), Timeout = TimeSpan.FromMinutes(2) };
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>One key per agent; every agent may run bash and python, one run at a time.</summary>
    public IReadOnlyList<string> Keys { get; }

    public HttpClient Http { get; }

    public ServeProcess? Serve { get; private set; }

    public static async Task<FaultRig> CreateAsync(int agents = 1)
    {
        var data = Path.Join(Path.GetTempPath(), "sandbox-faults-" + Guid.NewGuid().ToString("N"));
        await using var store = await SqliteGuardStore.OpenAsync(GuardPaths.Database(data), TimeProvider.System, Token);
        var keys = new List<string>();
        for (var i = 0; i < agents; i++)
        {
            var created = await new AgentAdmin(store, TimeProvider.System).CreateAsync(
                new AgentSpec { Name = "faults-" + i, Profiles = ["bash", "python"], MaxConcurrentRuns = 1 }, "test", Token);
            keys.Add(created.Value.ShouldNotBeNull(created.Message).Key);
        }

        return new FaultRig(data, keys);
    }

    /// <summary>Starts (or restarts, over the same data and port) the service and waits until it listens.</summary>
    public async Task StartAsync()
    {
        Serve?.Dispose();
        Serve = ServeProcess.Start(_data, AdminKey, _port);
        await Serve.WaitHealthyAsync(Token);
    }

    /// <summary>POSTs an asynchronous run; returns its id once accepted.</summary>
    public async Task<string> PostAsync(string key, string language, string code)
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/runs")
        {
            Content = JsonContent.Create(new { language, code, @async = true, purpose = "fault injection" }),
        };
        post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var accepted = await Http.SendAsync(post, Token);
        accepted.StatusCode.ShouldBe(HttpStatusCode.Accepted, await accepted.Content.ReadAsStringAsync(Token));
        var id = (await accepted.Content.ReadFromJsonAsync<JsonObject>(Token))!["id"]!.GetValue<string>();
        _runIds.Add(id);
        return id;
    }

    public async Task<JsonObject> GetAsync(string key, string runId)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{runId}");
        get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await Http.SendAsync(get, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>Polls the run until it is completed; returns its view.</summary>
    public async Task<JsonObject> WaitCompletedAsync(string key, string runId, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var view = await GetAsync(key, runId);
            if (view["state"]?.GetValue<string>() == "completed")
            {
                return view;
            }

            clock.Elapsed.ShouldBeLessThan(within, $"run {runId} did not complete; last view: {view.ToJsonString()}");
            await Task.Delay(50, Token);
        }
    }

    public Task WaitRunningAsync(string key, string runId) => Http.WaitForRunStateAsync(key, runId, "running");

    /// <summary>The checks every fault ends with; see the type's summary.</summary>
    public async Task AssertNothingLostOrLeftAsync()
    {
        foreach (var runId in _runIds)
        {
            var records = (JsonArray)await Http.AdminGetAsync(AdminKey, $"/admin/v1/audit?run={runId}");
            var kinds = records.Select(r => r!["kind"]!.GetValue<string>()).ToList();
            kinds.Count(k => k == "receipt").ShouldBe(1, $"run {runId} started exactly once: {string.Join(',', kinds)}");
            kinds.Count(k => k == "result").ShouldBe(1, $"run {runId} has exactly one result: {string.Join(',', kinds)}");
        }

        // No slot or reservation left held: every agent, at one concurrent run, is admitted again and its run completes.
        for (var i = 0; i < Keys.Count; i++)
        {
            var next = await PostAsync(Keys[i], "bash", "echo next");
            var view = await WaitCompletedAsync(Keys[i], next, TimeSpan.FromSeconds(60));
            view["result"]!["stdout"]!.GetValue<string>().ShouldBe("next\n", view.ToJsonString());
        }

        var clock = Stopwatch.StartNew();
        foreach (var runId in _runIds)
        {
            while ((await DockerProbe.ContainersOfRunAsync(runId)).Trim().Length > 0)
            {
                clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5), $"a labelled container of run {runId} is left");
                await Task.Delay(100, Token);
            }
        }

        var verify = (JsonObject)await Http.AdminGetAsync(AdminKey, "/admin/v1/audit/verify");
        verify["intact"]!.GetValue<bool>().ShouldBeTrue(verify.ToJsonString());

        // The operator's own check, over the same store, from the CLI.
        var (file, prefix) = Mcp.McpProcess.SandboxExecutable();
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in prefix.Concat(["audit", "verify"]))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["SANDBOX_DATA"] = _data;
        using var cli = Process.Start(start)!;
        var said = await cli.StandardOutput.ReadToEndAsync(Token) + await cli.StandardError.ReadToEndAsync(Token);
        await cli.WaitForExitAsync(Token);
        cli.ExitCode.ShouldBe(0, "sandbox audit verify: " + said);
    }

    public async ValueTask DisposeAsync()
    {
        Serve?.Dispose();
        Http.Dispose();
        foreach (var runId in _runIds)
        {
            await DockerProbe.RemoveContainersOfRunAsync(runId);
        }

        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }
}
