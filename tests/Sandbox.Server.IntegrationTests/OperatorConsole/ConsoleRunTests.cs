using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Sandbox.Server.IntegrationTests.Http;

namespace Sandbox.Server.IntegrationTests.OperatorConsole;

/// <summary>
/// The runs pages in a real Chromium against a real <c>sandbox serve</c> running bash in Docker: output streaming in while
/// the program runs, cancel, a revocation killing the run the page watches, and the list's filters and live refresh.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ConsoleRunTests : IClassFixture<ConsoleFixture>
{
    /// <summary>Output an agent controls, meant to become markup or script if it were ever put into the page as HTML.</summary>
    private const string HostileLine = "<img src=x onerror=alert(1)></script><script>alert(2)</script>";

    private readonly ConsoleFixture _fixture;

    public ConsoleRunTests(ConsoleFixture fixture) => _fixture = fixture;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunPage_StreamsOutputAsItIsWritten_ThenCancelKillsIt()
    {
        using var agent = await _fixture.ActiveAgentAsync("console-stream");
        var runId = await StartAsync(agent, $"echo 'first {HostileLine}'; printf 'fix \\342\\200\\256txt\\n' >&2; for i in $(seq 1 30); do sleep 1; echo line-$i; done; sleep 60", "stream </script><script>alert(3)</script>");
        await WaitForStateAsync(agent, runId, "running");
        var (context, page, dialogs) = await _fixture.NewPageAsync();
        await using var _ = context;
        await ConsoleFixture.SignInAsync(page);

        await page.GotoAsync($"/console/runs/{runId}");
        await page.WaitForFunctionAsync("() => document.getElementById('stdout').textContent.includes('line-')", null, new() { Timeout = 15_000 });
        // A marker the page keeps only while it is not reloaded: the lines that follow must arrive through the stream.
        await page.EvaluateAsync("() => { window.streamMarker = 1; }");
        var seen = (await page.Locator("#stdout").TextContentAsync())!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        await page.WaitForFunctionAsync("n => document.getElementById('stdout').textContent.split('\\n').filter(l => l).length >= n + 2", seen, new() { Timeout = 15_000 });
        (await page.EvaluateAsync<int>("() => window.streamMarker || 0")).ShouldBe(1);
        var lines = (await page.Locator("#stdout").TextContentAsync())!.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].ShouldBe($"first {HostileLine}");
        lines.Skip(1).ShouldBe(Enumerable.Range(1, lines.Length - 1).Select(i => $"line-{i}"));
        (await page.Locator("#stderr").TextContentAsync()).ShouldBe("fix <U+202E>txt\n");
        (await page.Locator("#state").TextContentAsync()).ShouldBe("running");
        (await page.Locator("#purpose").TextContentAsync()).ShouldBe("stream </script><script>alert(3)</script>");
        (await page.Locator("main img").CountAsync()).ShouldBe(0);
        (await page.Locator("script").CountAsync()).ShouldBe(1);
        (await page.Locator("section.receipt pre").TextContentAsync())!.ShouldContain("\"limits\"");
        await ConsoleFixture.ScreenshotAsync(page, "run-live-1280x800");

        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel this run" }).ClickAsync();
        await page.WaitForSelectorAsync("#result-status", new() { Timeout = 15_000 });

        (await page.Locator("#result-status").TextContentAsync()).ShouldBe("cancelled");
        (await page.Locator("#cancel-reason").TextContentAsync()).ShouldBe("cancelled by admin:Ops Alice in the console");
        (await page.Locator("#cancel").CountAsync()).ShouldBe(0);
        (await page.Locator("#stdout").TextContentAsync())!.ShouldStartWith($"first {HostileLine}\nline-1\n");
        (await page.Locator("#usage tbody tr").CountAsync()).ShouldBe(4);
        var result = await (await agent.GetAsync($"/v1/runs/{runId}", Token)).JsonAsync();
        ((string?)result["result"]!["status"]).ShouldBe("cancelled");
        await ConsoleFixture.ScreenshotAsync(page, "run-cancelled-1280x800");
        dialogs.ShouldBeEmpty();
    }

    [Fact]
    public async Task RevokeInTheConsole_WhileTheRunPageWatches_ThePageShowsTheRunKilled()
    {
        using var agent = await _fixture.ActiveAgentAsync("console-kill");
        var name = (string)(await (await agent.GetAsync("/v1/me", Token)).JsonAsync())["agent"]!["name"]!;
        var runId = await StartAsync(agent, "echo started; sleep 60", "to be killed");
        await WaitForStateAsync(agent, runId, "running");
        var (context, watcher, dialogs) = await _fixture.NewPageAsync();
        await using var _ = context;
        await ConsoleFixture.SignInAsync(watcher);
        await watcher.GotoAsync($"/console/runs/{runId}");
        await watcher.WaitForFunctionAsync("() => document.getElementById('stdout').textContent.includes('started')", null, new() { Timeout = 15_000 });

        var operatorPage = await context.NewPageAsync();
        await operatorPage.GotoAsync("/console/agents");
        await operatorPage.GetByRole(AriaRole.Link, new() { Name = "revoke " + name }).ClickAsync();
        await operatorPage.GetByLabel("Reason").FillAsync("caught misbehaving");
        await operatorPage.GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        (await operatorPage.Locator("#outcome").TextContentAsync()).ShouldBe($"Revoked {name}; 1 of its runs were stopped.");

        // The watching page learns of the end from its stream and reloads itself to show the result.
        await watcher.WaitForSelectorAsync("#result-status", new() { Timeout = 15_000 });
        (await watcher.Locator("#result-status").TextContentAsync()).ShouldBe("cancelled");
        (await watcher.Locator("#cancel-reason").TextContentAsync())!.ShouldContain("was revoked (caught misbehaving)");
        (await watcher.Locator("#stdout").TextContentAsync()).ShouldBe("started\n");
        await ConsoleFixture.ScreenshotAsync(watcher, "run-revoked-1280x800");
        dialogs.ShouldBeEmpty();
    }

    [Fact]
    public async Task RunsList_FiltersByAgentAndStatus_AndShowsANewRunWithoutAReload()
    {
        using var first = await _fixture.ActiveAgentAsync("console-list-a");
        using var second = await _fixture.ActiveAgentAsync("console-list-b");
        var firstName = (string)(await (await first.GetAsync("/v1/me", Token)).JsonAsync())["agent"]!["name"]!;
        var done = await StartAsync(first, "echo done", "finished <img src=x onerror=alert(1)>");
        await WaitForStateAsync(first, done, "completed");
        var (context, page, dialogs) = await _fixture.NewPageAsync(390, 844);
        await using var _ = context;
        await ConsoleFixture.SignInAsync(page);

        await page.GotoAsync("/console/runs");
        await page.GetByLabel("Agent").SelectOptionAsync(firstName);
        await page.GetByLabel("Status").SelectOptionAsync("ok");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await page.WaitForURLAsync("**/console/runs?**");
        var rows = page.Locator("#runs tbody tr");
        (await rows.CountAsync()).ShouldBe(1);
        (await rows.First.TextContentAsync())!.ShouldContain("finished <img src=x onerror=alert(1)>");
        (await page.EvaluateAsync<int>("document.documentElement.scrollWidth")).ShouldBeLessThanOrEqualTo(390);
        await ConsoleFixture.ScreenshotAsync(page, "runs-390x844");

        // Live runs of the other agent only: the running one appears by itself, the first agent's result does not.
        var secondName = (string)(await (await second.GetAsync("/v1/me", Token)).JsonAsync())["agent"]!["name"]!;
        await page.GotoAsync($"/console/runs?agent={secondName}&status=live");
        (await page.Locator("#runs tbody tr").CountAsync()).ShouldBe(0);
        var url = page.Url;
        var live = await StartAsync(second, "sleep 30", "live one");
        await page.WaitForFunctionAsync("id => [...document.querySelectorAll('#runs tbody a')].some(a => a.textContent === id)", live, new() { Timeout = 15_000 });
        page.Url.ShouldBe(url);
        (await page.Locator("#runs tbody tr").CountAsync()).ShouldBe(1);
        (await page.Locator("#runs tbody").TextContentAsync())!.ShouldNotContain(done);
        await page.SetViewportSizeAsync(1280, 800);
        await ConsoleFixture.ScreenshotAsync(page, "runs-1280x800");

        using var cancelled = await second.DeleteAsync($"/v1/runs/{live}", Token);
        dialogs.ShouldBeEmpty();
    }

    [Fact]
    public async Task RunPage_ListsTheFilesTheRunReturned_ShowsTheImage_AndServesEachAsTheAgentsDownloadDoes()
    {
        using var agent = await _fixture.ActiveAgentAsync("console-files");
        // A 1x1 PNG, a CSV, and a file whose name is markup: all left in /tmp/outputs by the program.
        const string Png = @"\211\120\116\107\015\012\032\012\000\000\000\015\111\110\104\122\000\000\000\001\000\000\000\001\010\006\000\000\000\037\025\304\211\000\000\000\015\111\104\101\124\170\234\143\370\317\300\360\037\000\005\000\001\377\211\231\075\035\000\000\000\000\111\105\116\104\256\102\140\202";
        var runId = await StartAsync(agent,
            $"printf '{Png}' > /tmp/outputs/dot.png; printf 'a,b\\n1,2\\n' > /tmp/outputs/table.csv; echo hi > '/tmp/outputs/{HostileLine.Replace("/", "", StringComparison.Ordinal)}.txt'; echo done",
            "files");
        await WaitForStateAsync(agent, runId, "completed");
        var result = (await (await agent.GetAsync($"/v1/runs/{runId}", Token)).JsonAsync())["result"]!;
        var csv = result["artifacts"]!.AsArray().Single(a => (string?)a!["path"] == "table.csv")!;
        var (context, page, dialogs) = await _fixture.NewPageAsync();
        await using var _ = context;
        await ConsoleFixture.SignInAsync(page);

        await page.GotoAsync($"/console/runs/{runId}");

        (await page.Locator("#artifacts tbody tr").CountAsync()).ShouldBe(3, (string?)result.ToJsonString());
        (await page.Locator("#artifacts").TextContentAsync())!.ShouldContain((string)csv["sha256"]!);
        (await page.Locator("#artifacts").TextContentAsync())!.ShouldContain(HostileLine.Replace("/", "", StringComparison.Ordinal) + ".txt");
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('img.artifact'); return i && i.complete && i.naturalWidth === 1; }", null, new() { Timeout = 15_000 });
        (await page.Locator("main img").CountAsync()).ShouldBe(1, "the one image is the PNG the run returned; the markup name stays text");
        (await page.Locator("script").CountAsync()).ShouldBe(1);

        var download = await page.APIRequest.GetAsync($"/console/runs/{runId}/artifacts/table.csv");
        download.Status.ShouldBe(200);
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await download.BodyAsync())).ShouldBe((string)csv["sha256"]!);
        download.Headers["content-security-policy"].ShouldBe("default-src 'none'; sandbox");
        download.Headers["x-content-type-options"].ShouldBe("nosniff");
        download.Headers["content-disposition"].ShouldStartWith("attachment");
        (await page.APIRequest.GetAsync($"/console/runs/{runId}/artifacts/..%2F..%2Fetc%2Fpasswd")).Status.ShouldBe(404);
        await ConsoleFixture.ScreenshotAsync(page, "run-artifacts-1280x800");
        dialogs.ShouldBeEmpty();
    }

    private static async Task<string> StartAsync(HttpClient agent, string code, string purpose)
    {
        using var accepted = await agent.PostAsJsonAsync("/v1/runs", new JsonObject { ["language"] = "bash", ["code"] = code, ["purpose"] = purpose, ["async"] = true }, Token);
        accepted.StatusCode.ShouldBe(HttpStatusCode.Accepted, await accepted.Content.ReadAsStringAsync(Token));
        return (string)(await accepted.JsonAsync())["id"]!;
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
