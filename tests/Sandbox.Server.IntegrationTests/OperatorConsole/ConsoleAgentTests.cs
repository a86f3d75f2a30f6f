using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Sandbox.Server.IntegrationTests.Http;

namespace Sandbox.Server.IntegrationTests.OperatorConsole;

/// <summary>The agents page in a real Chromium: hold through the confirmation step, and revoke an agent while its run is running.</summary>
[Trait("Category", "Integration")]
public sealed class ConsoleAgentTests : IClassFixture<ConsoleFixture>
{
    private readonly ConsoleFixture _fixture;

    public ConsoleAgentTests(ConsoleFixture fixture) => _fixture = fixture;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Revoke_WhileItsRunRuns_ConfirmsThenKillsTheRun()
    {
        using var agent = await _fixture.ActiveAgentAsync("console-revoke");
        using var accepted = await agent.PostAsJsonAsync("/v1/runs", new JsonObject { ["language"] = "bash", ["code"] = "echo started; sleep 60", ["async"] = true }, Token);
        accepted.StatusCode.ShouldBe(HttpStatusCode.Accepted, await accepted.Content.ReadAsStringAsync(Token));
        var runId = (string)(await accepted.JsonAsync())["id"]!;
        await WaitForStateAsync(agent, runId, "running");
        var (context, page, dialogs) = await _fixture.NewPageAsync();
        await using var _ = context;
        await ConsoleFixture.SignInAsync(page);
        var name = (string)(await (await agent.GetAsync("/v1/me", Token)).JsonAsync())["agent"]!["name"]!;

        await page.GetByRole(AriaRole.Link, new() { Name = "Agents" }).ClickAsync();
        await ConsoleFixture.ScreenshotAsync(page, "agents-1280x800");
        await page.GetByRole(AriaRole.Link, new() { Name = "revoke " + name }).ClickAsync();
        (await page.Locator("main p").First.TextContentAsync())!.ShouldContain("cannot be undone");
        await ConsoleFixture.ScreenshotAsync(page, "agent-revoke-confirm-1280x800");
        await page.GetByLabel("Reason").FillAsync("key leaked");
        await page.GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();

        (await page.Locator("#outcome").TextContentAsync()).ShouldBe($"Revoked {name}; 1 of its runs were stopped.");
        (await page.Locator("#killed li").AllTextContentsAsync()).ShouldBe([$"{runId} (cancelled; no purpose given)"]);
        using var admin = _fixture.AdminClient();
        var run = await (await admin.GetAsync($"/admin/v1/audit?run={runId}&kind=result", Token)).JsonAsync();
        ((string?)run.AsArray().Single()!["status"]).ShouldBe("cancelled");
        dialogs.ShouldBeEmpty();
    }

    [Fact]
    public async Task Hold_ThroughTheConfirmation_MakesTheNextRunWait()
    {
        using var agent = await _fixture.ActiveAgentAsync("console-hold");
        var (context, page, _) = await _fixture.NewPageAsync(390, 844);
        await using var __ = context;
        await ConsoleFixture.SignInAsync(page);
        var name = (string)(await (await agent.GetAsync("/v1/me", Token)).JsonAsync())["agent"]!["name"]!;

        await page.GotoAsync("/console/agents");
        (await page.EvaluateAsync<int>("document.documentElement.scrollWidth")).ShouldBeLessThanOrEqualTo(390);
        await ConsoleFixture.ScreenshotAsync(page, "agents-390x844");
        await page.GetByRole(AriaRole.Link, new() { Name = "hold " + name }).ClickAsync();
        await page.GetByLabel("Reason").FillAsync("odd traffic");
        await page.GetByRole(AriaRole.Button, new() { Name = "Hold" }).ClickAsync();
        (await page.Locator("#outcome").TextContentAsync()).ShouldBe($"{name} is under approval.");

        using var pending = await agent.PostAsJsonAsync("/v1/runs", new JsonObject { ["language"] = "bash", ["code"] = "echo held", ["async"] = true }, Token);
        pending.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        ((string?)(await pending.JsonAsync())["state"]).ShouldBe("pending_approval");
    }

    [Fact]
    public async Task Create_ThroughTheConfirmation_ShowsTheKeyOnce_AndTheKeyWorks()
    {
        const string Hostile = "<img src=x onerror=alert(1)></script>";
        var name = "console-new-" + Guid.NewGuid().ToString("N")[..8];
        var (context, page, dialogs) = await _fixture.NewPageAsync();
        await using var _ = context;
        await ConsoleFixture.SignInAsync(page);
        await page.GotoAsync("/console/agents");
        await page.GetByRole(AriaRole.Link, new() { Name = "Create an agent" }).ClickAsync();

        // A name the guard refuses comes back with the error, the hostile text as the field's value and nothing made of it.
        await page.GetByLabel("Name").FillAsync(Hostile);
        await page.GetByLabel("bash", new() { Exact = true }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Review" }).ClickAsync();
        (await page.Locator("#errors").TextContentAsync())!.ShouldStartWith("Name: ");
        (await page.GetByLabel("Name").InputValueAsync()).ShouldBe(Hostile);
        (await page.Locator("main img").CountAsync()).ShouldBe(0);

        await page.GetByLabel("Name").FillAsync(name);
        await page.GetByLabel("Runs a day").FillAsync("7");
        await ConsoleFixture.ScreenshotAsync(page, "agent-create-1280x800");
        await page.GetByRole(AriaRole.Button, new() { Name = "Review" }).ClickAsync();
        (await page.Locator("#review").TextContentAsync())!.ShouldContain("7 runs");
        using var admin = _fixture.AdminClient();
        (await admin.GetAsync($"/admin/v1/agents/{name}", Token)).StatusCode.ShouldBe(HttpStatusCode.NotFound); // not before the confirmation
        await page.GetByRole(AriaRole.Button, new() { Name = "Create agent" }).ClickAsync();

        var key = await page.GetByLabel("Agent key").InputValueAsync();
        key.ShouldStartWith("sbxa_");
        await ConsoleFixture.ScreenshotAsync(page, "agent-created-1280x800");
        using var agent = new HttpClient { BaseAddress = _fixture.BaseAddress };
        agent.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        var me = await (await agent.GetAsync("/v1/me", Token)).JsonAsync();
        ((string?)me["agent"]!["name"]).ShouldBe(name);
        ((int)me["agent"]!["dailyRuns"]!).ShouldBe(7);
        using var ran = await agent.PostAsJsonAsync("/v1/runs", new JsonObject { ["language"] = "bash", ["code"] = "echo hi" }, Token);
        ran.StatusCode.ShouldBe(HttpStatusCode.OK, await ran.Content.ReadAsStringAsync(Token));
        await page.GotoAsync("/console/agents");
        (await page.ContentAsync()).ShouldNotContain(key);
        (await page.Locator("#agents tr", new() { HasText = name }).TextContentAsync())!.ShouldContain("1 of 7 runs", customMessage: "today's usage against the daily cap");
        var created = (await (await admin.GetAsync($"/admin/v1/audit?kind=admin&status=agent_created", Token)).JsonAsync()).AsArray().Single(r => (string?)r!["data"]!["name"] == name)!;
        ((string?)created["data"]!["actor"]).ShouldBe("admin:Ops Alice");
        dialogs.ShouldBeEmpty();
    }

    [Fact]
    public async Task Rotate_ThroughTheConfirmation_KillsTheOldKeysRun_AndOnlyTheNewKeyWorks()
    {
        using var agent = await _fixture.ActiveAgentAsync("console-rotate");
        var name = (string)(await (await agent.GetAsync("/v1/me", Token)).JsonAsync())["agent"]!["name"]!;
        using var accepted = await agent.PostAsJsonAsync("/v1/runs", new JsonObject { ["language"] = "bash", ["code"] = "sleep 60", ["purpose"] = "old key </script>", ["async"] = true }, Token);
        var runId = (string)(await accepted.JsonAsync())["id"]!;
        await WaitForStateAsync(agent, runId, "running");
        var (context, page, dialogs) = await _fixture.NewPageAsync(390, 844);
        await using var _ = context;
        await ConsoleFixture.SignInAsync(page);

        await page.GotoAsync("/console/agents");
        await page.GetByRole(AriaRole.Link, new() { Name = "rotate " + name }).ClickAsync();
        (await page.Locator("main p").First.TextContentAsync())!.ShouldContain("shown once");
        await page.GetByRole(AriaRole.Button, new() { Name = "Rotate key" }).ClickAsync();

        (await page.Locator("#outcome").TextContentAsync()).ShouldBe($"Rotated the key of {name}; 1 runs of its old key were stopped.");
        (await page.Locator("#killed li").AllTextContentsAsync()).ShouldBe([$"{runId} (cancelled; old key </script>)"]);
        (await page.EvaluateAsync<string>("() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 390).map(e => e.tagName + '.' + e.className + '#' + e.id).join(' ')")).ShouldBe("");
        (await page.EvaluateAsync<int>("document.documentElement.scrollWidth")).ShouldBeLessThanOrEqualTo(390);
        await ConsoleFixture.ScreenshotAsync(page, "agent-rotated-390x844");
        var key = await page.GetByLabel("Agent key").InputValueAsync();
        (await agent.GetAsync("/v1/me", Token)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        using var rotated = new HttpClient { BaseAddress = _fixture.BaseAddress };
        rotated.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        (await rotated.GetAsync("/v1/me", Token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        dialogs.ShouldBeEmpty();
    }

    private static async Task WaitForStateAsync(HttpClient agent, string runId, string state)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTimeOffset.UtcNow < deadline)
        {
            if ((string?)(await (await agent.GetAsync($"/v1/runs/{runId}", Token)).JsonAsync())["state"] == state)
            {
                return;
            }

            await Task.Delay(200, Token);
        }

        throw new TimeoutException($"run {runId} did not reach {state}");
    }
}
