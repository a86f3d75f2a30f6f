using System.Net;
using System.Text.Json.Nodes;
using Sandbox.Server.IntegrationTests.Http;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Guard;

/// <summary>
/// Each detector, with its threshold lowered, POSTs its alert to a loopback webhook and writes an <c>alert</c>
/// record; with <c>HoldAgent</c> the agent's runs then wait for a human.
/// </summary>
[Trait("Category", "Integration")]
public sealed class AlertTests
{
    private static readonly TimeSpan s_delivery = TimeSpan.FromSeconds(10);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Loop_SameCodeThreeTimes_FiresTheWebhookAndAudits()
    {
        await using var hook = new WebhookReceiver();
        await using var factory = new SandboxApiFactory(Settings(hook, ("LoopThreshold", "3")));
        var (issued, agent) = await factory.AgentAsync(Some.Agent("alert-loop"));

        for (var i = 0; i < 3; i++)
        {
            await RunAsync(agent, "echo same", "ok");
        }

        await ShouldHaveAlertedAsync(factory, hook, issued.Agent.Name, issued.Agent.Id, "loop");
    }

    [Fact]
    public async Task FailureStreak_ThreeFailuresInARow_FiresTheWebhookAndAudits()
    {
        await using var hook = new WebhookReceiver();
        await using var factory = new SandboxApiFactory(Settings(hook, ("FailureStreakThreshold", "3")));
        var (issued, agent) = await factory.AgentAsync(Some.Agent("alert-streak"));

        for (var i = 0; i < 3; i++)
        {
            await RunAsync(agent, $"echo attempt {i}; exit 1", "runtime_error");
        }

        var alert = await ShouldHaveAlertedAsync(factory, hook, issued.Agent.Name, issued.Agent.Id, "failure_streak");
        ((int)alert["details"]!["streak"]!).ShouldBe(3);
    }

    [Fact]
    public async Task RateSpike_FourDistinctRunsFromANewAgent_FiresTheWebhookAndAudits()
    {
        await using var hook = new WebhookReceiver();
        await using var factory = new SandboxApiFactory(Settings(hook, ("SpikeMinRuns", "4"), ("SpikeWindow", "00:00:30")));
        var (issued, agent) = await factory.AgentAsync(Some.Agent("alert-spike"));

        for (var i = 0; i < 4; i++)
        {
            await RunAsync(agent, $"echo distinct {i}", "ok");
        }

        var alert = await ShouldHaveAlertedAsync(factory, hook, issued.Agent.Name, issued.Agent.Id, "rate_spike");
        ((int)alert["details"]!["current"]!).ShouldBe(4);
    }

    [Fact]
    public async Task HoldAgent_AfterALoopAlert_TheAgentsNextRunWaitsForApproval()
    {
        await using var hook = new WebhookReceiver();
        await using var factory = new SandboxApiFactory(Settings(hook, ("LoopThreshold", "3"), ("HoldAgent", "true")));
        var (issued, agent) = await factory.AgentAsync(Some.Agent("alert-hold"));
        await RunAsync(agent, "echo same", "ok");
        await RunAsync(agent, "echo same", "ok");

        using var third = await agent.PostRunAsync(Some.Bash("echo same"));

        third.StatusCode.ShouldBe(HttpStatusCode.Accepted, "the run that fired the alert already waits for a human");
        ((string?)(await third.JsonAsync())["state"]).ShouldBe("pending_approval");
        await ShouldHaveAlertedAsync(factory, hook, issued.Agent.Name, issued.Agent.Id, "loop");
        using var next = await agent.PostRunAsync(Some.Bash("echo something else"));
        next.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var view = await next.JsonAsync();
        ((string?)view["state"]).ShouldBe("pending_approval");
        ((string)view["approval"]!["reason"]!).ShouldContain("alert");
        using var admin = factory.AdminClient();
        var shown = await (await admin.GetAsync($"/admin/v1/agents/{issued.Agent.Id}", Token)).JsonAsync();
        ((string?)shown["agent"]!["state"]).ShouldBe("under_approval");
        var holds = await factory.AuditAsync($"agent={issued.Agent.Id}&kind=admin&status=approval_hold_set");
        ((string?)holds.ShouldHaveSingleItem()!["data"]!["actor"]).ShouldBe("detector:loop");
    }

    private static Dictionary<string, string> Settings(WebhookReceiver hook, params (string Key, string Value)[] alerts)
    {
        var settings = new Dictionary<string, string> { ["Sandbox:Guard:Alerts:WebhookUrl"] = hook.Url };
        foreach (var (key, value) in alerts)
        {
            settings["Sandbox:Guard:Alerts:" + key] = value;
        }

        return settings;
    }

    private static async Task RunAsync(HttpClient agent, string code, string status)
    {
        using var response = await agent.PostRunAsync(Some.Bash(code));
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Token));
        ((string?)(await response.JsonAsync())["result"]!["status"]).ShouldBe(status);
    }

    /// <summary>The webhook got one alert of <paramref name="detector"/> for the agent, and the audit has its record.</summary>
    private static async Task<JsonNode> ShouldHaveAlertedAsync(SandboxApiFactory factory, WebhookReceiver hook, string agentName, string agentId, string detector)
    {
        var alert = await hook.WaitForAsync(a => (string?)a["detector"] == detector && (string?)a["agentName"] == agentName, s_delivery);
        alert.ShouldNotBeNull($"no {detector} alert reached the webhook; got: {string.Join(", ", hook.Received.Select(a => a.ToJsonString()))}");
        ((string?)alert["type"]).ShouldBe("sandbox.alert");
        ((string?)alert["agentId"]).ShouldBe(agentId);
        ((string?)alert["summary"]).ShouldNotBeNullOrWhiteSpace();
        hook.Received.Count(a => (string?)a["detector"] == detector).ShouldBe(1, "one alert per cooldown");

        var records = await factory.AuditAsync($"agent={agentId}&kind=alert");
        var record = records.ShouldHaveSingleItem()!;
        ((string?)record["status"]).ShouldBe(detector);
        ((string?)record["data"]!["summary"]).ShouldBe((string?)alert["summary"]);
        await factory.ShouldBeIntactAsync();
        return alert;
    }
}
