using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Sandbox.Server.IntegrationTests.Http;

namespace Sandbox.Server.IntegrationTests.OperatorConsole;

/// <summary>The budgets page in a real Chromium: an agent's runs and CPU over 24 h against its caps, and the alert its loop fired.</summary>
[Trait("Category", "Integration")]
public sealed class ConsoleBudgetTests : IClassFixture<ConsoleFixture>
{
    private static readonly string[] s_bash = ["bash"];

    private readonly ConsoleFixture _fixture;

    public ConsoleBudgetTests(ConsoleFixture fixture) => _fixture = fixture;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Budgets_ChartRunsAgainstTheCap_AndListTheLoopAlertWithWhatFiredIt()
    {
        var name = "console-budget-" + Guid.NewGuid().ToString("N")[..6];
        using var admin = _fixture.AdminClient();
        using var created = await admin.PostAsJsonAsync("/admin/v1/agents", new { name, profiles = s_bash, dailyRuns = 8 }, Token);
        created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Token));
        var issued = await created.JsonAsync();
        var agentId = (string)issued["agent"]!["id"]!;
        using var agent = new HttpClient { BaseAddress = _fixture.BaseAddress };
        agent.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)issued["key"]!);

        // The same code five times: the loop detector's default threshold, and five of the eight runs a day.
        for (var i = 0; i < 5; i++)
        {
            using var ran = await agent.PostAsJsonAsync("/v1/runs", new JsonObject { ["language"] = "bash", ["code"] = "echo '</script><img src=x onerror=alert(1)>'" }, Token);
            ran.StatusCode.ShouldBe(HttpStatusCode.OK, await ran.Content.ReadAsStringAsync(Token));
        }

        var (context, page, dialogs) = await _fixture.NewPageAsync();
        await using var _ = context;
        await ConsoleFixture.SignInAsync(page);
        await page.GetByRole(AriaRole.Link, new() { Name = "Budgets" }).ClickAsync();
        await page.GotoAsync($"/console/budgets?agent={name}");

        var runs = page.Locator($"#agent-{agentId}-runs");
        (await runs.GetAttributeAsync("data-total")).ShouldBe("5");
        (await runs.GetAttributeAsync("data-cap")).ShouldBe("8");
        (await runs.GetAttributeAsync("role")).ShouldBe("img");
        (await page.GetByRole(AriaRole.Img, new() { Name = "Runs in the last 24 h: 5 of a cap of 8 a day (63 %)" }).CountAsync()).ShouldBe(1);
        (await runs.Locator("rect.bar").CountAsync()).ShouldBeInRange(1, 2); // one hour, or two when the runs straddled one's end
        (await page.Locator($"#agent-{agentId}-cpu").GetAttributeAsync("data-cap")).ShouldBe("3600");

        var alert = page.Locator("#alerts tbody tr").Filter(new() { HasText = "loop" });
        (await alert.CountAsync()).ShouldBe(1);
        (await alert.Locator("td.summary").TextContentAsync())!.ShouldContain(name);
        await alert.Locator("summary").ClickAsync();
        (await alert.Locator("pre").TextContentAsync())!.ShouldContain("\"threshold\": 5");
        (await page.Locator("main img").CountAsync()).ShouldBe(0);
        await ConsoleFixture.ScreenshotAsync(page, "budgets-1280x800");
        await page.SetViewportSizeAsync(390, 844);
        (await page.EvaluateAsync<int>("document.documentElement.scrollWidth")).ShouldBeLessThanOrEqualTo(390);
        await ConsoleFixture.ScreenshotAsync(page, "budgets-390x844");
        dialogs.ShouldBeEmpty();
    }
}
