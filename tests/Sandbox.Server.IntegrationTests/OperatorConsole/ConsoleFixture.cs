using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Sandbox.Server.IntegrationTests.Http;
using Sandbox.Server.IntegrationTests.Support;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.OperatorConsole;

/// <summary>
/// A real <c>sandbox serve</c> process and Debian's Chromium driven by Playwright (it cannot download its own browsers
/// here, so it launches <see cref="ChromiumPath"/>). Missing Chromium fails the tests rather than skipping them.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    public const string AdminKey = "console-test-admin-key-0123456789abcdef0123456789";
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] s_bash = ["bash"];

    private readonly string _data = Path.Join(Path.GetTempPath(), "sandbox-console-tests-" + Guid.NewGuid().ToString("N"));
    private IPlaywright? _playwright;
    private ServeProcess? _serve;

    public IBrowser Browser { get; private set; } = null!;

    public Uri BaseAddress => _serve!.Http.BaseAddress!;

    /// <summary>The service's data folder (its store and, under <c>logs</c>, its log files).</summary>
    public string DataDirectory => _data;

    /// <summary>Where the tests save each page's screenshot (git-ignored build output).</summary>
    public static string ScreenshotFolder => Path.Join(RepositoryRoot.Path, "artifacts", "screenshots");

    public async ValueTask InitializeAsync()
    {
        File.Exists(ChromiumPath).ShouldBeTrue($"{ChromiumPath} is missing: apt-get install -y chromium (eng/docker-up.sh installs it)");
        Directory.CreateDirectory(_data);
        Directory.CreateDirectory(ScreenshotFolder);
        _serve = ServeProcess.Start(_data, AdminKey);
        await _serve.WaitHealthyAsync(TestContext.Current.CancellationToken);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // Chromium's own sandbox needs a non-root user; these tests run as root in a container and load only loopback pages.
            ChromiumSandbox = false,
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        _serve?.Dispose();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
            // A run's leftovers may still be closing; the folder is under /tmp.
        }
    }

    /// <summary>A browser context (its own cookies) at <paramref name="width"/>×<paramref name="height"/>, with every dialog recorded.</summary>
    public async Task<(IBrowserContext Context, IPage Page, List<string> Dialogs)> NewPageAsync(int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseAddress.ToString(), ViewportSize = new ViewportSize { Width = width, Height = height } });
        // 60 s for every navigation, URL wait and element wait, not Playwright's 30: with every console class's serve and Chromium up at
        // once on a loaded 2-core host, a sign-in's page once took longer than 30 s, first in the fixture's sign-in and
        // later in the keyboard test's own.
        context.SetDefaultNavigationTimeout(60_000);
        context.SetDefaultTimeout(60_000);
        var page = await context.NewPageAsync();
        var dialogs = new List<string>();
        page.Dialog += (_, dialog) =>
        {
            lock (dialogs)
            {
                dialogs.Add(dialog.Type + ": " + dialog.Message);
            }

            _ = dialog.DismissAsync();
        };
        return (context, page, dialogs);
    }

    /// <summary>Signs in through the form and waits for the approvals page.</summary>
    public static async Task SignInAsync(IPage page, string operatorName = "Ops Alice")
    {
        await page.GotoAsync("/console/signin");
        await page.GetByLabel("Admin key").FillAsync(AdminKey);
        await page.GetByLabel("Your name").FillAsync(operatorName);
        var signedIn = page.WaitForURLAsync("**/console/approvals");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await signedIn;
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Join(ScreenshotFolder, name + ".png"), FullPage = true });

    /// <summary>A new agent on hold, so every run it asks for waits for a decision; returns a client with its key.</summary>
    public async Task<HttpClient> HeldAgentAsync(string topic)
    {
        var agent = await ActiveAgentAsync(topic);
        using var admin = Admin();
        var me = await (await agent.GetAsync("/v1/me", Token)).JsonAsync();
        using var held = await admin.PostAsJsonAsync($"/admin/v1/agents/{me["agent"]!["id"]}/hold", new { reason = "console test", by = "test" }, Token);
        held.StatusCode.ShouldBe(HttpStatusCode.OK, await held.Content.ReadAsStringAsync(Token));
        return agent;
    }

    /// <summary>A new active agent allowed bash; returns a client with its key.</summary>
    public async Task<HttpClient> ActiveAgentAsync(string topic)
    {
        using var admin = Admin();
        var name = $"{topic}-{Guid.NewGuid():N}"[..(topic.Length + 9)];
        using var created = await admin.PostAsJsonAsync("/admin/v1/agents", new { name, profiles = s_bash }, Token);
        created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Token));
        var issued = await created.JsonAsync();
        var agent = new HttpClient { BaseAddress = BaseAddress };
        agent.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)issued["key"]!);
        return agent;
    }

    /// <summary>Asks for a run as <paramref name="agent"/> and returns its id and the pending approval's id.</summary>
    public Task<(string RunId, string ApprovalId)> PendingRunAsync(HttpClient agent, string code, string purpose) =>
        PendingRunAsync(agent, new JsonObject { ["language"] = "bash", ["code"] = code, ["purpose"] = purpose });

    /// <summary>Asks for the run <paramref name="body"/> describes (made asynchronous) and returns its id and the pending approval's id.</summary>
    public async Task<(string RunId, string ApprovalId)> PendingRunAsync(HttpClient agent, JsonObject body)
    {
        body["async"] = true;
        using var accepted = await agent.PostAsJsonAsync("/v1/runs", body, Token);
        accepted.StatusCode.ShouldBe(HttpStatusCode.Accepted, await accepted.Content.ReadAsStringAsync(Token));
        var runId = (string)(await accepted.JsonAsync())["id"]!;
        using var admin = Admin();
        var pending = (await (await admin.GetAsync("/admin/v1/approvals", Token)).JsonAsync()).AsArray();
        return (runId, (string)pending.Single(a => (string?)a!["runId"] == runId)!["id"]!);
    }

    public async Task<JsonArray> AuditOfRunAsync(string runId)
    {
        using var admin = Admin();
        return (await (await admin.GetAsync($"/admin/v1/audit?run={Uri.EscapeDataString(runId)}", Token)).JsonAsync()).AsArray();
    }

    public async Task<string> ApprovalStateAsync(string approvalId)
    {
        using var admin = Admin();
        var all = (await (await admin.GetAsync("/admin/v1/approvals?state=all", Token)).JsonAsync()).AsArray();
        return (string)all.Single(a => (string?)a!["id"] == approvalId)!["state"]!;
    }

    public HttpClient AdminClient() => Admin();

    private HttpClient Admin()
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;
}
