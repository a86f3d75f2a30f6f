using System.Net;
using System.Text.Json.Nodes;
using Sandbox.Guard.Policy;
using Sandbox.Server.IntegrationTests.Http;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Guard;

/// <summary>Each cap, reached, is a 429 naming it with a Retry-After; every result says what remains of each budget.</summary>
[Trait("Category", "Integration")]
public sealed class CapTests : IClassFixture<SandboxApiFactory>
{
    private static readonly string[] s_agentCaps = [CapNames.Rate, CapNames.Concurrency, CapNames.DailyRuns, CapNames.DailyCpuSeconds, CapNames.DailyStoredMb];

    private static readonly string[] s_bashOnly = ["bash"];

    private readonly SandboxApiFactory _factory;

    public CapTests(SandboxApiFactory factory) => _factory = factory;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Post_InvalidRequestsPastTheRate_Are429RatePerMinute()
    {
        // attack: 70 bad POSTs from an agent capped at 60/min all got 400, none 429: refusals were not counted.
        var (_, agent) = await _factory.AgentAsync(Some.Agent("cap-rate-invalid") with { RatePerMinute = 5 });
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            using var response = await agent.PostRawAsync("{\"language\": \"bash\", \"code\": 42}");
            statuses.Add(response.StatusCode);
            if (i == 7)
            {
                await ShouldBeCappedAsync(response, CapNames.Rate);
            }
        }

        statuses.ShouldBe([.. Enumerable.Repeat(HttpStatusCode.BadRequest, 5), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3)]);
        using var valid = await agent.PostRunAsync(Some.Bash("echo too late"));
        await ShouldBeCappedAsync(valid, CapNames.Rate);
    }

    [Fact]
    public async Task Post_ThirdCallAtTwoPerMinute_Is429RatePerMinute()
    {
        var (_, agent) = await _factory.AgentAsync(Some.Agent("cap-rate") with { RatePerMinute = 2 });

        (await OkAsync(agent, "echo 1")).ShouldNotBeNull();
        (await OkAsync(agent, "echo 2")).ShouldNotBeNull();
        using var third = await agent.PostRunAsync(Some.Bash("echo 3"));

        await ShouldBeCappedAsync(third, CapNames.Rate);
        int.Parse(third.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture).ShouldBeInRange(1, 60);
    }

    [Fact]
    public async Task Post_SecondCallWhileOneRuns_Is429ConcurrentRuns()
    {
        var (_, agent) = await _factory.AgentAsync(Some.Agent("cap-concurrency") with { MaxConcurrentRuns = 1 });
        using var first = await agent.PostRunAsync(Some.BashAsync("sleep 5"));
        first.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var id = (string)(await first.JsonAsync())["id"]!;

        using var second = await agent.PostRunAsync(Some.Bash("echo 2"));

        await ShouldBeCappedAsync(second, CapNames.Concurrency);
        (await agent.DeleteAsync($"/v1/runs/{id}", Token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await DockerProbe.ContainersOfRunAsync(id)).ShouldBeEmpty("a cancelled run leaves no container, wherever it was cancelled");
        (await OkAsync(agent, "echo 3")).ShouldNotBeNull("the slot is free again once the first run ended");
    }

    [Fact]
    public async Task Post_SecondCallOfOneRunADay_Is429DailyRuns()
    {
        var (_, agent) = await _factory.AgentAsync(Some.Agent("cap-daily-runs") with { DailyRuns = 1 });
        (await OkAsync(agent, "echo 1")).ShouldNotBeNull();

        using var second = await agent.PostRunAsync(Some.Bash("echo 2"));

        await ShouldBeCappedAsync(second, CapNames.DailyRuns);
    }

    [Fact]
    public async Task Post_CpuBurnOverTheDailyCpuBudget_IsCutAtTheBudget_ThenIs429DailyCpuSeconds()
    {
        var (_, agent) = await _factory.AgentAsync(Some.Agent("cap-daily-cpu") with { DailyCpuSeconds = 0.2 });

        var burnt = await RunAsync(agent, Some.BurnCpu);

        ((string?)burnt["result"]!["status"]).ShouldBe("cpu_limit");
        ((long)burnt["result"]!["limits"]!["cpuTimeMs"]!).ShouldBeLessThanOrEqualTo(200, "the CPU limit is tightened to what remains of the budget");
        using var next = await agent.PostRunAsync(Some.Bash("echo after"));
        await ShouldBeCappedAsync(next, CapNames.DailyCpuSeconds);
    }

    /// <summary>
    /// Attack: fill the service's disk within the rate. Each admitted run's code, stdin and files stay in the audit log for
    /// good and its output and artifacts for the retention: at 60 runs a minute of 1 MiB of code and full outputs, about
    /// 0.6 GB a minute, until the disk reserve refuses every agent's runs. Expected: the agent's runs are charged what they
    /// store (its code at admission, its output at the end), and past its daily MiB the next run is a 429 daily_stored_mb
    /// whose code is not kept.
    /// </summary>
    [Fact]
    public async Task Post_CodeAndOutputPastTheDailyStoredBudget_Are429DailyStoredMb()
    {
        var (issued, agent) = await _factory.AgentAsync(Some.Agent("cap-stored") with { DailyStoredMb = 1 });
        const int codeBytes = 420_000; // 0.4005 MiB; budgets are shown to 3 decimals
        var padded = "# " + new string('x', codeBytes) + "\necho small";

        var first = await OkAsync(agent, padded);
        var usedFirst = (double)Budgets(first)[CapNames.DailyStoredMb]["used"]!;
        usedFirst.ShouldBeGreaterThanOrEqualTo(0.4, "the code is charged at admission");
        usedFirst.ShouldBeLessThan(0.5);

        var second = await OkAsync(agent, "head -c 700000 /dev/zero | tr '\\0' x");
        var usedSecond = (double)Budgets(second)[CapNames.DailyStoredMb]["used"]!;
        (usedSecond - usedFirst).ShouldBeGreaterThanOrEqualTo(0.667, "the output (700,000 bytes, 0.6676 MiB) is charged at the end");
        ((double)Budgets(second)[CapNames.DailyStoredMb]["limit"]!).ShouldBe(1);

        using var third = await agent.PostRunAsync(Some.Bash(padded));
        await ShouldBeCappedAsync(third, CapNames.DailyStoredMb);
        var requests = await _factory.AuditAsync($"agent={issued.Agent.Name}&kind=request");
        requests.Count.ShouldBe(3);
        requests.Count(r => r!["data"]!["code"] is null).ShouldBe(1, "the refused request's code is kept by hash and size only");
    }

    [Fact]
    public async Task Post_CpuBurnsAdmittedTogether_StayWithinTheDailyCpuBudget()
    {
        // Each run used to be tightened to what remained when it was admitted; runs in flight had not been charged
        // yet, so three admitted together could each burn the whole of what remained.
        var (_, agent) = await _factory.AgentAsync(Some.Agent("cap-cpu-together") with { DailyCpuSeconds = 0.5 });
        using var first = await agent.PostRunAsync(Some.BashAsync(Some.BurnCpu));
        first.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var firstId = (string)(await first.JsonAsync())["id"]!;

        using var second = await agent.PostRunAsync(Some.BashAsync(Some.BurnCpu));

        await ShouldBeCappedAsync(second, CapNames.DailyCpuSeconds);
        var refused = await second.JsonAsync();
        ((string?)refused["detail"]).ShouldNotBeNull().ShouldContain("in flight");
        ((int)second.Headers.RetryAfter!.Delta!.Value.TotalSeconds).ShouldBeLessThan(60, "the budget frees up when the run in flight ends, not at midnight");
        var done = await agent.WaitForStateAsync(firstId, "completed", TimeSpan.FromSeconds(30));
        ((string?)done["result"]!["status"]).ShouldBe("cpu_limit");
        var used = (double)Budgets(done)[CapNames.DailyCpuSeconds]["used"]!;
        used.ShouldBeLessThan(0.5 + 0.25, "one run's enforcement slack at most, not a second run's burn");
    }

    [Fact]
    public async Task Post_WhileARunIsInFlight_TheNextIsTightenedToWhatItDidNotReserve()
    {
        // 8 s a day, and bash's CPU limit is 5 s: a run in flight holds 5 s, so the next may use only the other 3 s.
        var (_, agent) = await _factory.AgentAsync(Some.Agent("cap-cpu-reserve") with { DailyCpuSeconds = 8 });
        using var sleeper = await agent.PostRunAsync(Some.BashAsync("sleep 3"));
        sleeper.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var sleeperId = (string)(await sleeper.JsonAsync())["id"]!;

        var during = await OkAsync(agent, "echo during");
        await agent.WaitForStateAsync(sleeperId, "completed", TimeSpan.FromSeconds(30));
        var after = await OkAsync(agent, "echo after");

        ((long)during["result"]!["limits"]!["cpuTimeMs"]!).ShouldBe(3000);
        ((long)after["result"]!["limits"]!["cpuTimeMs"]!).ShouldBe(5000, "the sleeper used almost nothing and handed its reservation back");
    }

    [Fact]
    public async Task Post_SecondCallOfAOneRunToken_Is429TokenRuns()
    {
        var (_, agent) = await _factory.AgentAsync(Some.Agent("cap-token-runs"));
        using var token = await TokenClientAsync(agent, new { profiles = s_bashOnly, maxRuns = 1 });
        (await OkAsync(token, "echo 1")).ShouldNotBeNull();

        using var second = await token.PostRunAsync(Some.Bash("echo 2"));

        await ShouldBeCappedAsync(second, CapNames.TokenRuns);
        (await OkAsync(agent, "echo 3")).ShouldNotBeNull("the agent's own key has runs left");
    }

    [Fact]
    public async Task Post_CpuBurnOverTheTokensCpuBudget_IsCut_ThenIs429TokenCpuSeconds()
    {
        var (_, agent) = await _factory.AgentAsync(Some.Agent("cap-token-cpu"));
        using var token = await TokenClientAsync(agent, new { profiles = s_bashOnly, cpuSeconds = 0.2 });

        var burnt = await RunAsync(token, Some.BurnCpu);

        ((string?)burnt["result"]!["status"]).ShouldBe("cpu_limit");
        ((long)burnt["result"]!["limits"]!["cpuTimeMs"]!).ShouldBeLessThanOrEqualTo(200);
        using var next = await token.PostRunAsync(Some.Bash("echo after"));
        await ShouldBeCappedAsync(next, CapNames.TokenCpuSeconds);
    }

    [Fact]
    public async Task Result_Budgets_ListEveryCap_AndDailyRunsCountDownByOnePerRun()
    {
        var (_, agent) = await _factory.AgentAsync(Some.Agent("cap-budgets") with { DailyRuns = 10 });

        var first = Budgets(await OkAsync(agent, "echo 1"));
        var second = Budgets(await OkAsync(agent, "echo 2"));

        first.Keys.ShouldBe(s_agentCaps, ignoreOrder: true);
        foreach (var budget in first.Values)
        {
            budget["limit"].ShouldNotBeNull();
            budget["used"].ShouldNotBeNull();
            budget["remaining"].ShouldNotBeNull();
        }

        ((double)first[CapNames.DailyRuns]["limit"]!).ShouldBe(10);
        ((double)first[CapNames.DailyRuns]["remaining"]!).ShouldBe(9);
        ((double)second[CapNames.DailyRuns]["remaining"]!).ShouldBe(8);
        ((double)second[CapNames.DailyRuns]["used"]!).ShouldBe(2);
        ((double)second[CapNames.Concurrency]["used"]!).ShouldBe(0, "no run is in flight once the result is out");
        ((double)second[CapNames.DailyCpuSeconds]["used"]!).ShouldBeGreaterThanOrEqualTo((double)first[CapNames.DailyCpuSeconds]["used"]!);

        using var token = await TokenClientAsync(agent, new { profiles = s_bashOnly, maxRuns = 5 });
        var viaToken = Budgets(await OkAsync(token, "echo 3"));
        viaToken.Keys.ShouldBe([.. s_agentCaps, CapNames.TokenRuns, CapNames.TokenCpuSeconds], ignoreOrder: true);
        ((double)viaToken[CapNames.TokenRuns]["remaining"]!).ShouldBe(4);
        ((double)viaToken[CapNames.DailyRuns]["remaining"]!).ShouldBe(7);
    }

    private async Task<HttpClient> TokenClientAsync(HttpClient agent, object spec)
    {
        using var minted = await agent.MintTokenAsync(spec);
        minted.StatusCode.ShouldBe(HttpStatusCode.OK, await minted.Content.ReadAsStringAsync(Token));
        return _factory.CreateClient((string)(await minted.JsonAsync())["token"]!);
    }

    private static async Task<JsonNode> RunAsync(HttpClient client, string code)
    {
        using var response = await client.PostRunAsync(Some.Bash(code));
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Token));
        var view = await response.JsonAsync();
        ((string?)view["state"]).ShouldBe("completed");
        s_agentCaps.ShouldBeSubsetOf(Budgets(view).Keys, "every completed result says what remains of each budget");
        return view;
    }

    /// <summary>
    /// Attack: spend the CPU budget compiling (the compile step of a C profile may use 20 s of CPU, the program 5).
    /// Expected: the compiler's CPU time is reported (<c>usage.compileCpuMs</c>) and charged to the daily budget with the program's.
    /// </summary>
    [Fact]
    public async Task Post_CProgram_ChargesTheCompileStepsCpuToTheBudget()
    {
        var (issued, agent) = await _factory.AgentAsync(Some.Agent("cap-compile", "c"));

        using var response = await agent.PostRunAsync(new { language = "c", code = "int main(void) { return 0; }\n", purpose = "compile charge test" });
        var view = await response.JsonAsync();

        ((string?)view["result"]!["status"]).ShouldBe("ok", view.ToJsonString());
        var usage = view["result"]!["usage"]!;
        var compileMs = (long?)usage["compileCpuMs"] ?? 0;
        compileMs.ShouldBeGreaterThan(0, "gcc takes CPU time: " + usage.ToJsonString());
        var charged = (double)Budgets(view)["daily_cpu_seconds"]["used"]!;
        charged.ShouldBe(((long)usage["cpuMs"]! + compileMs) / 1000.0, 0.0011, "the program's and the compiler's CPU are both charged");
        var result = (await _factory.AuditAsync($"agent={issued.Agent.Name}&kind=result")).ShouldHaveSingleItem()!;
        ((long?)result["data"]!["usage"]!["compileCpuMs"]).ShouldBe(compileMs);
    }

    private static async Task<JsonNode> OkAsync(HttpClient client, string code)
    {
        var view = await RunAsync(client, code);
        ((string?)view["result"]!["status"]).ShouldBe("ok", view.ToJsonString());
        return view;
    }

    private static Dictionary<string, JsonNode> Budgets(JsonNode view) =>
        view["budgets"].ShouldNotBeNull().AsArray().ToDictionary(b => (string)b!["name"]!, b => b!);

    private static async Task ShouldBeCappedAsync(HttpResponseMessage response, string cap)
    {
        response.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests, await response.Content.ReadAsStringAsync(Token));
        response.Headers.Contains("Retry-After").ShouldBeTrue();
        var problem = await response.JsonAsync();
        problem.Code().ShouldBe("cap_exceeded");
        ((string?)problem["cap"]).ShouldBe(cap);
    }
}
