using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Store;
using Sandbox.Server.IntegrationTests.Mcp;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Faults;

/// <summary>
/// One data folder served by a real <c>sandbox serve</c> that a fault test may kill and start again on the same port,
/// and the four harms every fault is checked for: a run lost, run twice or mislabelled (the test's own assertions,
/// with <see cref="RunIds"/> to compare against), a slot or reservation leaked (<see cref="AssertFollowUpAdmittedAsync"/>),
/// a container left behind (<see cref="AssertNoContainerLeftAsync"/>), and a broken audit chain
/// (<see cref="AssertAuditIntactAsync"/>, through the real <c>sandbox audit verify</c>).
/// </summary>
internal sealed class FaultService : IAsyncDisposable
{
    public const string AdminKey = "fault-suite-admin-key-0123456789abcdef0123456789";

    /// <summary>The bash profile's CPU limit: a follow-up run given less had part of its budget held by a leaked reservation.</summary>
    public const long BashCpuTimeMs = 5000;

    private readonly bool _ownsData;
    private readonly Dictionary<string, double> _dailyCpuSeconds = new(StringComparer.Ordinal);

    private FaultService(string data, bool ownsData)
    {
        Data = data;
        _ownsData = ownsData;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}"), Timeout = TimeSpan.FromMinutes(1) };
    }

    public string Data { get; }

    public int Port { get; } = ServeProcess.FreePort();

    public HttpClient Http { get; }

    public ServeProcess? Serve { get; private set; }

    /// <summary>Every run id the test saw accepted: their containers are looked for, and removed at the end if a kill left them.</summary>
    public HashSet<string> RunIds { get; } = [];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>A new data folder (in <paramref name="parent"/> when given, such as a small filesystem the test mounted).</summary>
    public static FaultService Create(string topic, string? parent = null)
    {
        var data = Path.Join(parent ?? Path.GetTempPath(), "sandbox-fault-" + topic + "-" + Guid.NewGuid().ToString("N")[..8]);
        return new FaultService(data, ownsData: true);
    }

    /// <summary>
    /// An agent written straight into the store before the service starts. <c>MaxConcurrentRuns = 1</c> and a daily CPU
    /// budget of one bash run plus a second by default: a leaked slot shows as 429, a leaked CPU reservation as a
    /// follow-up run refused or given less than the profile's CPU limit.
    /// </summary>
    public async Task<string> CreateAgentAsync(string name, IReadOnlyList<string>? profiles = null, int maxConcurrentRuns = 1, double dailyCpuSeconds = 6)
    {
        await using var store = await SqliteGuardStore.OpenAsync(GuardPaths.Database(Data), TimeProvider.System, Token);
        var created = await new AgentAdmin(store, TimeProvider.System).CreateAsync(
            new AgentSpec { Name = name, Profiles = profiles ?? ["bash"], MaxConcurrentRuns = maxConcurrentRuns, DailyCpuSeconds = dailyCpuSeconds, RatePerMinute = 1000 },
            "fault-suite",
            Token);
        _dailyCpuSeconds[name] = dailyCpuSeconds;
        return created.Value.ShouldNotBeNull(created.Message).Key;
    }

    /// <summary>Starts the service (stopping any previous one first) and waits until it answers /healthz.</summary>
    public async Task<ServeProcess> StartAsync(IReadOnlyDictionary<string, string>? environment = null, string? profiles = null)
    {
        Serve?.Dispose();
        var env = new Dictionary<string, string> { ["Sandbox__LogDirectory"] = Path.Join(Data, "logs") };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            env[name] = value;
        }

        Serve = ServeProcess.Start(Data, AdminKey, Port, env, profiles);
        await Serve.WaitHealthyAsync(Token);
        return Serve;
    }

    /// <summary>POSTs a run as <paramref name="key"/>; the id of anything accepted joins <see cref="RunIds"/>.</summary>
    public async Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response)> PostRunAsync(string key, object body, string? idempotencyKey = null)
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/runs") { Content = JsonContent.Create(body) };
        post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (idempotencyKey is not null)
        {
            post.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        var response = await Http.SendAsync(post, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        var json = text.Length > 0 && text[0] == '{' ? (JsonObject)JsonNode.Parse(text)! : new JsonObject { ["raw"] = text };
        if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted && json["id"] is { } id)
        {
            RunIds.Add(id.GetValue<string>());
        }

        return (response.StatusCode, json, response);
    }

    public async Task<(HttpStatusCode Status, JsonObject? Body)> GetRunAsync(string key, string runId)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{runId}");
        get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await Http.SendAsync(get, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        return (response.StatusCode, text.StartsWith('{') ? (JsonObject)JsonNode.Parse(text)! : null);
    }

    public async Task<JsonArray> AuditAsync(string query) => (JsonArray)await Http.AdminGetAsync(AdminKey, "/admin/v1/audit" + query);

    /// <summary>The value of one budget from <c>GET /v1/me</c>.</summary>
    public async Task<double> BudgetUsedAsync(string key, string cap)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, "/v1/me");
        get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await Http.SendAsync(get, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        var budget = JsonNode.Parse(text)!["budgets"]!.AsArray().Single(b => (string?)b!["name"] == cap)!;
        return budget["used"]!.GetValue<double>();
    }

    /// <summary>
    /// No slot or reservation leaked: the agent is idle, the CPU it was charged today is what its audited results add up
    /// to (no more: our faults are free; no less), and its next run is admitted at once with the whole CPU limit its
    /// budget leaves (a leaked reservation would have tightened it or refused it 429).
    /// </summary>
    public async Task<JsonObject> AssertFollowUpAdmittedAsync(string key, string agentName)
    {
        var charged = await ChargedCpuMsAsync(agentName);
        (await BudgetUsedAsync(key, "daily_cpu_seconds")).ShouldBe(Math.Round(charged / 1000.0, 3), 0.0011, "today's CPU is what the audited results add up to");
        (await BudgetUsedAsync(key, "concurrent_runs")).ShouldBe(0, "no slot held by a run that is over");

        var (status, view, response) = await PostRunAsync(key, new { language = "bash", code = "echo follow-up", purpose = "the agent is not locked out" });
        response.Dispose();
        status.ShouldBe(HttpStatusCode.OK, "a follow-up run of the one-slot agent is admitted: " + view.ToJsonString());
        var result = view["result"]!;
        ((string?)result["status"]).ShouldBe("ok", view.ToJsonString());
        ((string?)result["stdout"]).ShouldBe("follow-up\n");
        var expectedCpuMs = Math.Min(BashCpuTimeMs, (long)(_dailyCpuSeconds[agentName] * 1000) - charged);
        result["limits"]!["cpuTimeMs"]!.GetValue<long>().ShouldBe(expectedCpuMs, "no CPU reservation left held by a run that is over");
        return view;
    }

    /// <summary>The CPU the agent's audited results say it used, except our own failures (<c>sandbox_error</c>), which are free.</summary>
    public async Task<long> ChargedCpuMsAsync(string agentName)
    {
        var charged = 0L;
        foreach (var record in await AuditAsync($"?kind=result&agent={agentName}&limit=1000"))
        {
            if ((string?)record!["status"] != "sandbox_error" && record["data"]?["usage"] is JsonObject usage)
            {
                charged += (usage["cpuMs"]?.GetValue<long>() ?? 0) + (usage["compileCpuMs"]?.GetValue<long?>() ?? 0);
            }
        }

        return charged;
    }

    /// <summary>No container of any of <see cref="RunIds"/> (by the <c>io.sandbox.run-id</c> label) is left <paramref name="within"/> from now.</summary>
    public async Task AssertNoContainerLeftAsync(TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var left = (await ManagedContainerRunIdsAsync()).Where(RunIds.Contains).ToList();
            if (left.Count == 0)
            {
                return;
            }

            if (clock.Elapsed > within)
            {
                left.ShouldBeEmpty($"containers of these runs are left {within.TotalSeconds:0} s after recovery");
            }

            await Task.Delay(250, Token);
        }
    }

    /// <summary>The real <c>sandbox audit verify</c> over the data folder: exit 0 and intact.</summary>
    public async Task AssertAuditIntactAsync()
    {
        var (fileName, prefix) = McpProcess.SandboxExecutable();
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in prefix.Concat(["audit", "verify", "--data", Data]))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Token);
        var stderr = process.StandardError.ReadToEndAsync(Token);
        await process.WaitForExitAsync(Token);
        process.ExitCode.ShouldBe(0, $"sandbox audit verify: {await stdout}{await stderr}");
    }

    /// <summary>A measurement for the suite's report (numbers, times, memory), in the test's output.</summary>
    public static void Report(string line) => TestContext.Current.TestOutputHelper?.WriteLine("[fault report] " + line);

    /// <summary>The service's resident memory in MiB now, for the report.</summary>
    public double RssMiB() => Serve is { Process.HasExited: false } s ? s.ResidentBytes() / 1048576.0 : 0;

    public static async Task<string> DockerAsync(params string[] args)
    {
        var start = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync(Token);
        await process.WaitForExitAsync(Token);
        process.ExitCode.ShouldBe(0, "docker " + string.Join(' ', args));
        return output;
    }

    /// <summary><c>/readyz</c>: whether it is ready (its status agrees) and its store check, if it has one.</summary>
    public async Task<(bool Ready, bool? Store)> ReadyzAsync()
    {
        using var response = await Http.GetAsync("/readyz", Token);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!;
        var store = body["checks"]!.AsArray().FirstOrDefault(c => (string?)c!["name"] == "store");
        var ready = (bool)body["ready"]!;
        (response.StatusCode == HttpStatusCode.OK).ShouldBe(ready, body.ToJsonString());
        return (ready, store is null ? null : (bool)store["ok"]!);
    }

    /// <summary>Polls the run until it is completed (20 s at most); returns its view.</summary>
    public async Task<JsonObject> WaitCompletedAsync(string key, string runId)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var (status, view) = await GetRunAsync(key, runId);
            if (status == HttpStatusCode.OK && (string?)view!["state"] == "completed")
            {
                return view;
            }

            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(20), $"run {runId} completes: {view?.ToJsonString()}");
            await Task.Delay(100, Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Serve?.Dispose();
        Http.Dispose();
        try
        {
            foreach (var runId in (await ManagedContainerRunIdsAsync()).Where(RunIds.Contains))
            {
                await DockerProbe.RemoveContainersOfRunAsync(runId);
            }
        }
        catch (Exception e) when (e is ShouldAssertException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Best effort: a daemon that does not answer now must not hide the test's own failure; the reaper removes them later.
        }

        if (_ownsData && Directory.Exists(Data))
        {
            Directory.Delete(Data, recursive: true);
        }
    }

    private static async Task<IReadOnlyList<string>> ManagedContainerRunIdsAsync()
    {
        var output = await DockerAsync("ps", "-a", "--filter", "label=io.sandbox.managed", "--format", "{{.Label \"io.sandbox.run-id\"}}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
