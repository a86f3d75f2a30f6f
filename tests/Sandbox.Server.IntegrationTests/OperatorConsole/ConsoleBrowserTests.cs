using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Sandbox.Server.IntegrationTests.OperatorConsole;

/// <summary>
/// The operator's console in a real Chromium against a real <c>sandbox serve</c>: signing in and out, deciding approvals
/// (and the audit log recording who), the CSRF and cross-site refusals, and hostile agent text rendered inert.
/// </summary>
[Trait("Category", "Integration")]
public sealed partial class ConsoleBrowserTests : IClassFixture<ConsoleFixture>
{
    private readonly ConsoleFixture _fixture;

    public ConsoleBrowserTests(ConsoleFixture fixture) => _fixture = fixture;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SignIn_WithTheAdminKey_OpensApprovalsWithHardenedHeaders_AndAWrongKeyIsRefused()
    {
        var (context, page, dialogs) = await _fixture.NewPageAsync();
        await using var _ = context;

        var signIn = await page.GotoAsync("/console");
        page.Url.ShouldEndWith("/console/signin");
        await ConsoleFixture.ScreenshotAsync(page, "signin-1280x800");
        await page.GetByLabel("Admin key").FillAsync(ConsoleFixture.AdminKey + "x");
        await page.GetByLabel("Your name").FillAsync("Ops Alice");
        var refused = await page.RunAndWaitForResponseAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync(), r => r.Url.EndsWith("/console/signin", StringComparison.Ordinal) && r.Request.Method == "POST");
        refused.Status.ShouldBe(401);
        (await page.GetByRole(AriaRole.Alert).TextContentAsync()).ShouldBe("the admin key is wrong");
        (await context.CookiesAsync()).ShouldNotContain(c => c.Name == "sandbox-console");

        await ConsoleFixture.SignInAsync(page);

        var approvals = await page.ReloadAsync();
        var headers = approvals!.Headers;
        headers["content-security-policy"].ShouldBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
        headers["x-frame-options"].ShouldBe("DENY");
        headers["referrer-policy"].ShouldBe("no-referrer");
        headers["x-content-type-options"].ShouldBe("nosniff");
        headers["cache-control"].ShouldBe("no-store");
        signIn!.Headers["content-security-policy"].ShouldNotBeNullOrEmpty();
        var cookie = (await context.CookiesAsync()).Single(c => c.Name == "sandbox-console");
        cookie.HttpOnly.ShouldBeTrue();
        cookie.SameSite.ShouldBe(SameSiteAttribute.Strict);
        cookie.Expires.ShouldBeGreaterThan(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        (await page.Locator("#operator").TextContentAsync()).ShouldBe("Ops Alice");
        await ConsoleFixture.ScreenshotAsync(page, "approvals-1280x800");
        dialogs.ShouldBeEmpty();
    }

    [Fact]
    public async Task ApproveOneDenyAnother_EachDecisionIsAuditedWithTheOperatorsName()
    {
        var agent = await _fixture.HeldAgentAsync("console-decide");
        var (approvedRun, approvedId) = await _fixture.PendingRunAsync(agent, "echo approved-by-console", "approve me");
        var (deniedRun, deniedId) = await _fixture.PendingRunAsync(agent, "echo denied-by-console", "deny me");
        var (context, page, dialogs) = await _fixture.NewPageAsync();
        await using var _ = context;
        await ConsoleFixture.SignInAsync(page, "Ops Alice");

        // The queue lists both, oldest first, and the badge counts them.
        var rows = page.Locator("#approvals tbody tr");
        (await rows.CountAsync()).ShouldBeGreaterThanOrEqualTo(2);
        var listed = string.Join("\n", await rows.AllTextContentsAsync());
        listed.IndexOf("approve me", StringComparison.Ordinal).ShouldBeLessThan(listed.IndexOf("deny me", StringComparison.Ordinal));
        int.Parse(await page.Locator("#pending-count").TextContentAsync() ?? "", System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThanOrEqualTo(2);

        await page.GotoAsync($"/console/approvals/{approvedId}");
        (await page.Locator("#code-hash").GetAttributeAsync("class")).ShouldBe("ok");
        (await page.Locator("section.code pre").TextContentAsync()).ShouldBe("echo approved-by-console");
        await ConsoleFixture.ScreenshotAsync(page, "approval-1280x800");
        await page.GetByLabel("Note for approving").FillAsync("looks harmless");
        await page.GetByRole(AriaRole.Button, new() { Name = "Approve and run" }).ClickAsync();
        await page.WaitForURLAsync($"**/console/approvals/{approvedId}");
        (await page.Locator("#state").TextContentAsync()).ShouldBe("approved");
        (await page.Locator("#decided").TextContentAsync())!.ShouldContain("by admin:Ops Alice: looks harmless");

        await page.GotoAsync($"/console/approvals/{deniedId}");
        await page.GetByLabel("Note for denying").FillAsync("not today");
        await page.GetByRole(AriaRole.Button, new() { Name = "Deny" }).ClickAsync();
        await page.WaitForURLAsync($"**/console/approvals/{deniedId}");
        (await page.Locator("#state").TextContentAsync()).ShouldBe("denied");

        var approvedAudit = (await _fixture.AuditOfRunAsync(approvedRun)).Single(r => (string?)r!["kind"] == "approval")!;
        ((string?)approvedAudit["status"]).ShouldBe("approved");
        ((string?)approvedAudit["data"]!["by"]).ShouldBe("admin:Ops Alice");
        var deniedAudit = (await _fixture.AuditOfRunAsync(deniedRun)).Single(r => (string?)r!["kind"] == "approval")!;
        ((string?)deniedAudit["status"]).ShouldBe("denied");
        ((string?)deniedAudit["data"]!["by"]).ShouldBe("admin:Ops Alice");
        dialogs.ShouldBeEmpty();
    }

    [Fact]
    public async Task StateChangingPosts_WithoutTheCsrfTokenOrFromAnotherSite_AreRefused()
    {
        var agent = await _fixture.HeldAgentAsync("console-csrf");
        var (_, approvalId) = await _fixture.PendingRunAsync(agent, "echo never", "csrf target");
        using var cookies = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };
        using var http = new HttpClient(cookies) { BaseAddress = _fixture.BaseAddress };
        using (var signIn = await http.PostAsync("/console/signin", Form(("key", ConsoleFixture.AdminKey), ("operator", "Ops Bob")), Token))
        {
            signIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        }

        var page = await http.GetStringAsync($"/console/approvals/{approvalId}", Token);
        var token = CsrfField().Match(page).Groups[1].Value;
        token.ShouldNotBeEmpty();
        var approve = $"/console/approvals/{approvalId}/approve";

        using (var missing = await http.PostAsync(approve, Form(("note", "no token")), Token))
        {
            missing.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        }

        using (var wrong = await http.PostAsync(approve, Form(("csrf", token[..^2] + "xx"), ("note", "wrong token")), Token))
        {
            wrong.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        }

        foreach (var (header, value) in new[] { ("Sec-Fetch-Site", "cross-site"), ("Origin", "http://evil.test") })
        {
            using var crossSite = new HttpRequestMessage(HttpMethod.Post, approve) { Content = Form(("csrf", token), ("note", "cross-site")) };
            crossSite.Headers.TryAddWithoutValidation(header, value);
            using var refused = await http.SendAsync(crossSite, Token);
            refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden, header);
        }

        // A real browser on another origin posting the console's own form, even with a leaked token: refused, not decided.
        var (context, browserPage, dialogs) = await _fixture.NewPageAsync();
        await using var _ = context;
        await ConsoleFixture.SignInAsync(browserPage, "Ops Carol");
        var browserToken = await browserPage.Locator("form.signout input[name=csrf]").GetAttributeAsync("value");
        await browserPage.RouteAsync("http://evil.test/**", route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 200,
            ContentType = "text/html",
            Body = $"<form id=f method=post action=\"{_fixture.BaseAddress}console/approvals/{approvalId}/approve\"><input name=csrf value=\"{browserToken}\"><input name=note value=x></form><script>document.getElementById('f').submit()</script>",
        }));
        var posted = await browserPage.RunAndWaitForResponseAsync(() => browserPage.GotoAsync("http://evil.test/"), r => r.Url.EndsWith("/approve", StringComparison.Ordinal));
        posted.Status.ShouldBe(403);

        (await _fixture.ApprovalStateAsync(approvalId)).ShouldBe("pending");

        // The control: the same post with the token, from this origin, is accepted.
        using (var accepted = await http.PostAsync($"/console/approvals/{approvalId}/deny", Form(("csrf", token), ("note", "control")), Token))
        {
            accepted.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        }

        (await _fixture.ApprovalStateAsync(approvalId)).ShouldBe("denied");
        dialogs.ShouldBeEmpty();
    }

    [Fact]
    public async Task HostileAgentText_RendersAsText_NoScriptRuns()
    {
        // Agent names are limited to [a-z0-9._-] by the guard, so the hostile name comes in as the operator's own name here,
        // and the agent's hostile text as its purpose (with a bidi override) and its code (closing a script element).
        const string HostileName = "<img src=x onerror=alert(1)>";
        const string Purpose = "fix \u202Etxt.exe <img src=x onerror=alert(2)> <script>alert(3)</script>";
        const string Code = "echo '</script><script>alert(4)</script><img src=x onerror=alert(5)>'";
        var agent = await _fixture.HeldAgentAsync("console-hostile");
        const string FileContent = "</pre><script>alert(6)</script>\u202Eevil\u200B";
        const string Stdin = "<img src=x onerror=alert(7)>";
        var (_, approvalId) = await _fixture.PendingRunAsync(agent, new JsonObject
        {
            ["language"] = "bash",
            ["code"] = Code,
            ["purpose"] = Purpose,
            ["stdin"] = Stdin,
            ["files"] = new JsonArray(new JsonObject { ["path"] = "notes.txt", ["content"] = FileContent }),
        });
        var (context, page, dialogs) = await _fixture.NewPageAsync();
        await using var _ = context;
        await ConsoleFixture.SignInAsync(page, HostileName);

        var response = await page.GotoAsync($"/console/approvals/{approvalId}");
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);

        response!.Headers["content-security-policy"].ShouldNotContain("unsafe");
        (await page.Locator("#operator").TextContentAsync()).ShouldBe(HostileName);
        (await page.Locator("#purpose").TextContentAsync()).ShouldBe("fix \\u{202E}txt.exe <img src=x onerror=alert(2)> <script>alert(3)</script>");
        (await page.Locator("section.code pre").TextContentAsync()).ShouldBe(Code);
        (await page.Locator("section.file pre").TextContentAsync()).ShouldBe("</pre><script>alert(6)</script>\\u{202E}evil\\u{200B}");
        (await page.Locator("section.file h2").TextContentAsync())!.ShouldStartWith("File notes.txt (");
        (await page.Locator("section.file h2").TextContentAsync())!.ShouldNotContain("DOES NOT MATCH");
        (await page.Locator("section.stdin pre").TextContentAsync()).ShouldBe(Stdin);
        (await page.Locator("main img, header img").CountAsync()).ShouldBe(0);
        (await page.Locator("script").CountAsync()).ShouldBe(1); // the console's own, from /console/static
        (await page.Locator("script").GetAttributeAsync("src")).ShouldBe("/console/static/console.js");
        await ConsoleFixture.ScreenshotAsync(page, "approval-hostile-1280x800");
        dialogs.ShouldBeEmpty();
    }

    [Fact]
    public async Task PendingBadge_CountsANewApproval_WithoutAReload()
    {
        var agent = await _fixture.HeldAgentAsync("console-badge");
        var (context, page, _) = await _fixture.NewPageAsync();
        await using var __ = context;
        await ConsoleFixture.SignInAsync(page);
        var before = await page.Locator("#pending-count").TextContentAsync();
        var count = string.IsNullOrEmpty(before) ? 0 : int.Parse(before, System.Globalization.CultureInfo.InvariantCulture);

        await _fixture.PendingRunAsync(agent, "echo badge", "badge");

        // The page's own script polls /console/approvals/count; no navigation happens.
        var url = page.Url;
        await page.WaitForFunctionAsync("n => document.getElementById('pending-count').textContent === n", (count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), new() { Timeout = 15_000 });
        page.Url.ShouldBe(url);
    }

    [Fact]
    public async Task SignOut_InvalidatesTheCookie_EvenIfTheBrowserKeepsIt()
    {
        var (context, page, _) = await _fixture.NewPageAsync(390, 844);
        await using var __ = context;
        await ConsoleFixture.SignInAsync(page);
        await ConsoleFixture.ScreenshotAsync(page, "approvals-390x844");
        var cookie = (await context.CookiesAsync()).Single(c => c.Name == "sandbox-console").Value;
        (await StatusWithCookieAsync(cookie)).ShouldBe(HttpStatusCode.OK);

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync("**/console/signin");
        await ConsoleFixture.ScreenshotAsync(page, "signin-390x844");

        (await context.CookiesAsync()).ShouldNotContain(c => c.Name == "sandbox-console");
        (await StatusWithCookieAsync(cookie)).ShouldBe(HttpStatusCode.Redirect);
    }

    [Fact]
    public async Task PhoneViewport_ApprovalPage_FitsWithoutSideways()
    {
        var agent = await _fixture.HeldAgentAsync("console-phone");
        var (_, approvalId) = await _fixture.PendingRunAsync(agent, "for i in 1 2 3; do echo \"a fairly long line of code that must scroll inside its own box $i\"; done", "phone layout");
        var (context, page, _) = await _fixture.NewPageAsync(390, 844);
        await using var __ = context;
        await ConsoleFixture.SignInAsync(page);

        await page.GotoAsync($"/console/approvals/{approvalId}");

        (await page.EvaluateAsync<int>("document.documentElement.scrollWidth")).ShouldBeLessThanOrEqualTo(390);
        (await page.GetByRole(AriaRole.Button, new() { Name = "Approve and run" }).IsVisibleAsync()).ShouldBeTrue();
        await ConsoleFixture.ScreenshotAsync(page, "approval-390x844");
    }

    private async Task<HttpStatusCode> StatusWithCookieAsync(string cookie)
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false };
        using var http = new HttpClient(handler) { BaseAddress = _fixture.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/console/approvals");
        request.Headers.Add("Cookie", "sandbox-console=" + cookie);
        using var response = await http.SendAsync(request, Token);
        return response.StatusCode;
    }

    private static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));

    [GeneratedRegex("name=\"csrf\" value=\"([^\"]+)\"")]
    private static partial Regex CsrfField();
}
