using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Sandbox.Server.IntegrationTests.Http;

namespace Sandbox.Server.IntegrationTests.OperatorConsole;

/// <summary>
/// The audit pages in a real Chromium against a real <c>sandbox serve</c>: decisions made in the console found with the
/// operator's name, the chain verified from the page (and a wrong anchor caught), the filters, hostile data shown as text,
/// and the JSON lines export.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ConsoleAuditTests : IClassFixture<ConsoleFixture>
{
    private readonly ConsoleFixture _fixture;

    public ConsoleAuditTests(ConsoleFixture fixture) => _fixture = fixture;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ApproveAndDeny_AppearWithTheOperatorsName_AndTheChainVerifiesFromThePage()
    {
        var agent = await _fixture.HeldAgentAsync("console-audit");
        var name = (string)(await (await agent.GetAsync("/v1/me", Token)).JsonAsync())["agent"]!["name"]!;
        var (approvedRun, approvedId) = await _fixture.PendingRunAsync(agent, "echo yes", "audit approve");
        var (deniedRun, deniedId) = await _fixture.PendingRunAsync(agent, "echo no", "audit deny");
        var (context, page, dialogs) = await _fixture.NewPageAsync();
        await using var _ = context;
        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        await ConsoleFixture.SignInAsync(page, "Ops Carol");
        await DecideAsync(page, approvedId, "Approve and run");
        await DecideAsync(page, deniedId, "Deny");

        await page.GetByRole(AriaRole.Link, new() { Name = "Audit" }).ClickAsync();
        await page.GetByLabel("Agent").SelectOptionAsync(name);
        await page.GetByLabel("Kind").SelectOptionAsync("approval");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await page.WaitForURLAsync("**/console/audit?**");
        var rows = page.Locator("#audit tbody tr");
        (await rows.CountAsync()).ShouldBe(2);
        var approved = rows.Filter(new() { HasText = approvedRun });
        (await approved.Locator("td").Nth(3).TextContentAsync()).ShouldBe("approved");
        (await approved.Locator("td.by").TextContentAsync()).ShouldBe("admin:Ops Carol");
        var denied = rows.Filter(new() { HasText = deniedRun });
        (await denied.Locator("td").Nth(3).TextContentAsync()).ShouldBe("denied");
        (await denied.Locator("td.by").TextContentAsync()).ShouldBe("admin:Ops Carol");
        await ConsoleFixture.ScreenshotAsync(page, "audit-1280x800");

        await page.GetByRole(AriaRole.Link, new() { Name = "Verify the chain" }).ClickAsync();
        (await page.Locator("#verdict").TextContentAsync())!.ShouldStartWith("Audit chain intact: ");
        var head = await page.GetByLabel("Head (anchor)").InputValueAsync();
        using var admin = _fixture.AdminClient();
        var verified = await (await admin.GetAsync("/admin/v1/audit/verify", Token)).JsonAsync();
        verified.ToJsonString().ShouldContain(head.Split(':')[1]);
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy" }).ClickAsync();
        // The clipboard write is asynchronous: the page says how it went once it went.
        await page.WaitForFunctionAsync("() => document.getElementById('copied').textContent !== ''", null, new() { Timeout = 10_000 });
        (await page.Locator("#copied").TextContentAsync()).ShouldBe("Copied.");
        (await page.EvaluateAsync<string>("() => navigator.clipboard.readText()")).ShouldBe(head);
        await ConsoleFixture.ScreenshotAsync(page, "audit-verify-1280x800");

        // The head kept as an anchor matches later; an anchor whose hash is not the record's is caught.
        await page.GetByLabel("Verify against an anchor").FillAsync(head);
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify", Exact = true }).ClickAsync();
        (await page.Locator("#verdict").TextContentAsync())!.ShouldContain($"anchor {head} matches");
        var forged = head.Split(':')[0] + ":" + new string('0', 64);
        var response = await page.GotoAsync("/console/audit/verify?anchor=" + Uri.EscapeDataString(forged));
        response!.Status.ShouldBe(409);
        (await page.Locator("#verdict").TextContentAsync())!.ShouldStartWith("Audit chain BROKEN");
        dialogs.ShouldBeEmpty();
    }

    [Fact]
    public async Task Filters_ByRunKindAndTime_ShowHostileDataAsText_AndExportJsonLines()
    {
        const string Purpose = "audit </script><script>alert(1)</script><img src=x onerror=alert(2)> \u202Eevil";
        using var agent = await _fixture.ActiveAgentAsync("console-export");
        string runId;
        using (var ran = await agent.PostAsync("/v1/runs", System.Net.Http.Json.JsonContent.Create(new JsonObject { ["language"] = "bash", ["code"] = "echo '</script><script>alert(3)</script>'", ["purpose"] = Purpose }), Token))
        {
            ran.EnsureSuccessStatusCode();
            runId = (string)(await ran.JsonAsync())["id"]!;
        }

        var (context, page, dialogs) = await _fixture.NewPageAsync(390, 844);
        await using var _ = context;
        await ConsoleFixture.SignInAsync(page);

        await page.GotoAsync("/console/audit");
        await page.GetByLabel("Run").FillAsync(runId);
        await page.GetByLabel("Kind").SelectOptionAsync("request");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await page.WaitForURLAsync("**/console/audit?**");
        var row = page.Locator("#audit tbody tr");
        (await row.CountAsync()).ShouldBe(1);
        await row.Locator("summary").ClickAsync();
        var data = (await row.Locator("pre").TextContentAsync())!;
        data.ShouldContain("\"purpose\": \"audit </script><script>alert(1)</script><img src=x onerror=alert(2)> ");
        data.ShouldNotContain("\u202E"); // the bidi override is shown as an escape, never applied
        data.ShouldContain("</script><script>alert(3)</script>");
        (await page.Locator("main img").CountAsync()).ShouldBe(0);
        (await page.Locator("script").CountAsync()).ShouldBe(1);
        (await page.EvaluateAsync<int>("document.documentElement.scrollWidth")).ShouldBeLessThanOrEqualTo(390);
        await ConsoleFixture.ScreenshotAsync(page, "audit-390x844");

        // Time: nothing is recorded in the future.
        var future = DateTimeOffset.UtcNow.AddHours(1).ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture);
        await page.GotoAsync($"/console/audit?run={runId}&from={future}");
        (await page.Locator("#empty").CountAsync()).ShouldBe(1);
        var bad = await page.GotoAsync("/console/audit?kind=bogus");
        bad!.Status.ShouldBe(400);
        (await page.GetByRole(AriaRole.Alert).TextContentAsync())!.ShouldStartWith("kind: 'bogus' is not one of");

        // Export of this run's records: every line a whole record with its hashes, in sequence order.
        await page.GotoAsync($"/console/audit?run={runId}");
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("#export").ClickAsync());
        var file = Path.Join(ConsoleFixture.ScreenshotFolder, "..", "audit-export-test.jsonl");
        await download.SaveAsAsync(file);
        var lines = (await File.ReadAllLinesAsync(file, Token)).Select(l => JsonNode.Parse(l)!).ToList();
        File.Delete(file);
        lines.Select(l => (string?)l["kind"]).ShouldBe(["request", "decision", "receipt", "result"]);
        lines.ShouldAllBe(l => (string?)l["runId"] == runId && ((string?)l["hash"])!.Length == 64);
        lines.Select(l => (long)l["seq"]!).ShouldBeInOrder();
        ((string?)lines[0]["data"]!["purpose"]).ShouldBe(Purpose);
        dialogs.ShouldBeEmpty();
    }

    private static async Task DecideAsync(IPage page, string approvalId, string button)
    {
        await page.GotoAsync($"/console/approvals/{approvalId}");
        await page.GetByRole(AriaRole.Button, new() { Name = button }).ClickAsync();
        await page.WaitForURLAsync($"**/console/approvals/{approvalId}");
    }
}
