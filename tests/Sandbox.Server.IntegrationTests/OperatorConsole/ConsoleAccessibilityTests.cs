using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Sandbox.Server.IntegrationTests.Http;

namespace Sandbox.Server.IntegrationTests.OperatorConsole;

/// <summary>
/// Every console page at 1280×800 and at 390×844 in a real Chromium: an axe-core scan with no serious or critical
/// violation, nothing wider than the screen, a screenshot of each; and the main tasks done with the keyboard alone.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ConsoleAccessibilityTests : IClassFixture<ConsoleFixture>
{
    private readonly ConsoleFixture _fixture;

    public ConsoleAccessibilityTests(ConsoleFixture fixture) => _fixture = fixture;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(1280, 800)]
    [InlineData(390, 844)]
    public async Task EveryPage_HasNoSeriousAxeViolation_AndFitsTheScreen(int width, int height)
    {
        var held = await _fixture.HeldAgentAsync("console-a11y");
        var (_, approvalId) = await _fixture.PendingRunAsync(held, "echo '</script><img src=x onerror=alert(1)>'", "a11y \u202Epurpose </script>");
        using var agent = await _fixture.ActiveAgentAsync("console-a11y-run");
        string runId;
        using (var ran = await agent.PostAsJsonAsync("/v1/runs", new JsonObject { ["language"] = "bash", ["code"] = "echo out; echo err >&2; exit 3", ["purpose"] = "a11y run" }, Token))
        {
            ran.StatusCode.ShouldBe(HttpStatusCode.OK);
            runId = (string)(await ran.JsonAsync())["id"]!;
        }

        var agentId = (string)(await (await agent.GetAsync("/v1/me", Token)).JsonAsync())["agent"]!["id"]!;
        var (context, page, dialogs) = await _fixture.NewPageAsync(width, height);
        await using var _ = context;
        var pages = new (string Name, string Path)[]
        {
            ("signin", "/console/signin"),
            ("approvals", "/console/approvals"),
            ("approval", $"/console/approvals/{approvalId}"),
            ("runs", "/console/runs"),
            ("run", $"/console/runs/{runId}"),
            ("agents", "/console/agents"),
            ("agent-new", "/console/agents/new"),
            ("agent-hold-confirm", $"/console/agents/{agentId}/hold"),
            ("budgets", "/console/budgets"),
            ("audit", "/console/audit"),
            ("audit-verify", "/console/audit/verify"),
        };
        var failures = new List<string>();
        foreach (var (name, path) in pages)
        {
            if (name == "approvals")
            {
                await ConsoleFixture.SignInAsync(page);
            }

            var response = await page.GotoAsync(path);
            response!.Status.ShouldBe(200, path);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            (await AxeScan.RulesRunAsync(page)).ShouldBeGreaterThan(10, path);
            failures.AddRange((await AxeScan.SeriousViolationsAsync(page)).Select(v => $"{path}: {v}"));
            var wide = await page.EvaluateAsync<int>("document.documentElement.scrollWidth");
            if (wide > width)
            {
                failures.Add($"{path}: {wide} px wide on a {width} px screen");
            }

            await ConsoleFixture.ScreenshotAsync(page, $"a11y-{name}-{width}x{height}");
        }

        failures.ShouldBeEmpty();
        dialogs.ShouldBeEmpty();
    }

    [Fact]
    public async Task Keyboard_SignInThenApprove_WithTabAndEnterOnly()
    {
        var held = await _fixture.HeldAgentAsync("console-keys");
        var (_, approvalId) = await _fixture.PendingRunAsync(held, "echo keyboard", "keyboard only");
        var (context, page, _) = await _fixture.NewPageAsync();
        await using var __ = context;

        await page.GotoAsync("/console/signin");
        await page.Keyboard.PressAsync("Tab");
        (await FocusedAsync(page)).ShouldBe("key");
        await page.Keyboard.TypeAsync(ConsoleFixture.AdminKey);
        await page.Keyboard.PressAsync("Tab");
        (await FocusedAsync(page)).ShouldBe("operator");
        await page.Keyboard.TypeAsync("Ops Keys");
        await page.Keyboard.PressAsync("Tab");
        (await page.EvaluateAsync<string>("() => document.activeElement.textContent")).ShouldBe("Sign in");
        // The wait starts before the key, so a redirect that lands first cannot be missed.
        var signedIn = page.WaitForURLAsync("**/console/approvals");
        await page.Keyboard.PressAsync("Enter");
        await signedIn;

        // The navigation first, every link reachable in order, each with a visible focus ring.
        var order = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            order.Add(await page.EvaluateAsync<string>("() => document.activeElement.textContent.trim()"));
            (await page.EvaluateAsync<string>("() => getComputedStyle(document.activeElement).outlineStyle")).ShouldNotBe("none");
        }

        order.Take(5).Select(t => t.Split(' ')[0]).ShouldBe(["Approvals", "Runs", "Agents", "Budgets", "Audit"]);
        order[5].ShouldBe("Sign out");

        // The approval's decision: tab until the approve note, type, tab to the button, Enter.
        await page.GotoAsync($"/console/approvals/{approvalId}");
        for (var i = 0; i < 40 && await FocusedAsync(page) != "approve-note"; i++)
        {
            await page.Keyboard.PressAsync("Tab");
        }

        (await FocusedAsync(page)).ShouldBe("approve-note");
        await page.Keyboard.TypeAsync("by keyboard");
        await page.Keyboard.PressAsync("Tab");
        (await FocusedAsync(page)).ShouldBe("approve");
        await page.Keyboard.PressAsync("Enter");
        // The decision redirects to the URL already shown, so a URL wait proves nothing: the decided line, which only the
        // reloaded page has, is waited for instead.
        (await page.Locator("#decided").TextContentAsync())!.ShouldContain("by admin:Ops Keys: by keyboard");
    }

    private static Task<string> FocusedAsync(IPage page) => page.EvaluateAsync<string>("() => document.activeElement ? document.activeElement.id : ''");
}
