using System.Diagnostics;
using System.Text.Json.Nodes;
using Sandbox.Server.IntegrationTests.Support;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Http;

/// <summary>
/// The served OpenAPI document through a third-party linter, as users' tooling reads it: Redocly's recommended
/// ruleset (@redocly/cli from eng/npm, installed by eng/npm-install.sh) must report no error.
/// </summary>
public sealed class OpenApiLintTests : IClassFixture<SandboxApiFactory>
{
    private readonly SandboxApiFactory _factory;

    public OpenApiLintTests(SandboxApiFactory factory) => _factory = factory;

    [Fact]
    public async Task OpenApiDocument_RedoclyRecommended_NoErrors()
    {
        var redocly = Path.Join(RepositoryRoot.Path, "eng", "npm", "node_modules", ".bin", "redocly");
        File.Exists(redocly).ShouldBeTrue("@redocly/cli is not installed: run `bash eng/npm-install.sh` (eng/test.sh does)");
        using var client = _factory.CreateClient();
        var document = await client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken);

        // Kept under artifacts/ so a failing lint can be reproduced with the same file.
        var folder = Path.Join(RepositoryRoot.Path, "artifacts", "openapi");
        Directory.CreateDirectory(folder);
        var file = Path.Join(folder, "v1.json");
        await File.WriteAllTextAsync(file, document, TestContext.Current.CancellationToken);

        var start = new ProcessStartInfo(redocly) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
        foreach (var argument in new[] { "lint", "--extends", "recommended", "--format", "json", file })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["REDOCLY_TELEMETRY"] = "off";
        start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        using var lint = Process.Start(start)!;
        var stdout = lint.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = lint.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await lint.WaitForExitAsync(TestContext.Current.CancellationToken);

        var report = JsonNode.Parse(await stdout)!;
        var errors = report["problems"]!.AsArray()
            .Where(p => (string?)p!["severity"] == "error")
            .Select(p => $"{p!["ruleId"]}: {p["message"]} at {p["location"]?[0]?["pointer"]}")
            .ToList();
        errors.ShouldBeEmpty($"redocly lint --extends recommended {file}:\n{string.Join("\n", errors)}\n{await stderr}");
        lint.ExitCode.ShouldBe(0, await stderr);
    }
}
