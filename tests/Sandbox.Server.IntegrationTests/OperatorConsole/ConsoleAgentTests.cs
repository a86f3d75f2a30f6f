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
