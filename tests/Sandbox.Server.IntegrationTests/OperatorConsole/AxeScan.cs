using System.Text.Json;
using Microsoft.Playwright;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.OperatorConsole;

/// <summary>
/// axe-core, from the npm package eng/npm pins (eng/npm-install.sh installs it), run inside a console page. Evaluated
/// through the DevTools protocol, which the page's CSP does not govern, so the scan needs no change to the console's
/// strict policy and the console never ships a test tool.
/// </summary>
internal static class AxeScan
{
    private static readonly Lazy<string> s_source = new(() =>
    {
        var path = Path.Join(NpmClients.Folder, "node_modules", "axe-core", "axe.min.js");
        File.Exists(path).ShouldBeTrue("axe-core is not installed in eng/npm: run `bash eng/npm-install.sh` (eng/test.sh does)");
        return File.ReadAllText(path);
    });

    /// <summary>The serious and critical violations of WCAG 2.x A and AA rules on the page as it is now, one line each.</summary>
    public static async Task<IReadOnlyList<string>> SeriousViolationsAsync(IPage page)
    {
        await LoadAsync(page);
        var result = await page.EvaluateAsync<JsonElement>(
            "() => axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] })" +
            ".then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5) })))");
        return [.. result.EnumerateArray()
            .Where(v => v.GetProperty("impact").GetString() is "serious" or "critical")
            .Select(v => $"{v.GetProperty("id").GetString()} ({v.GetProperty("impact").GetString()}): {v.GetProperty("help").GetString()} at {string.Join(", ", v.GetProperty("nodes").EnumerateArray().Select(n => n.GetString()))}")];
    }

    /// <summary>How many rules axe-core ran: a scan that checked nothing must not pass as clean.</summary>
    public static async Task<int> RulesRunAsync(IPage page)
    {
        await LoadAsync(page);
        return await page.EvaluateAsync<int>("() => axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } }).then(r => r.passes.length + r.violations.length + r.incomplete.length)");
    }

    private static async Task LoadAsync(IPage page)
    {
        if (!await page.EvaluateAsync<bool>("() => typeof window.axe === 'object'"))
        {
            await page.EvaluateAsync(s_source.Value);
        }

        (await page.EvaluateAsync<bool>("() => typeof window.axe === 'object'")).ShouldBeTrue("axe-core did not load into the page");
    }
}
