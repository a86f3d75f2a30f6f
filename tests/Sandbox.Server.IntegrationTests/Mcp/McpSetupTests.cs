using System.Diagnostics;

namespace Sandbox.Server.IntegrationTests.Mcp;

/// <summary>The setup pitfalls of issue 12, with the real <c>sandbox mcp</c>: each misconfiguration stops it at start (exit 78) naming the fix.</summary>
public sealed class McpSetupTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Mcp_StoreMissing_Exits78NamingTheFolderAndCreatesNothing()
    {
        var data = Path.Join(Path.GetTempPath(), "sandbox-mcp-missing-" + Guid.NewGuid().ToString("N"));

        var (exit, stderr) = await RunAsync(["mcp", "--agent", "my-agent"], new() { ["SANDBOX_DATA"] = data });

        exit.ShouldBe(78, stderr);
        stderr.ShouldContain(Path.Join(data, "sandbox.db"));
        File.Exists(Path.Join(data, "sandbox.db")).ShouldBeFalse("a wrong SANDBOX_DATA must not quietly create a new, empty store");
    }

    [Fact]
    public async Task Mcp_DataOption_IsAcceptedAndUsed()
    {
        var data = Path.Join(Path.GetTempPath(), "sandbox-mcp-option-" + Guid.NewGuid().ToString("N"));

        var (exit, stderr) = await RunAsync(["mcp", "--agent", "my-agent", "--data", data], []);

        exit.ShouldBe(78, stderr);
        stderr.ShouldNotContain("Unrecognized");
        stderr.ShouldContain(Path.Join(data, "sandbox.db"));
    }

    [Fact]
    public async Task Mcp_UrlWithoutApiKey_Exits78NamingTheVariable()
    {
        var (exit, stderr) = await RunAsync(["mcp", "--url", "http://127.0.0.1:9"], []);

        exit.ShouldBe(78, stderr);
        stderr.ShouldContain("SANDBOX_API_KEY");
    }

    private static async Task<(int Exit, string Stderr)> RunAsync(IEnumerable<string> args, Dictionary<string, string> environment)
    {
        var (fileName, prefix) = McpProcess.SandboxExecutable();
        var start = new ProcessStartInfo(fileName) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in prefix.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("SANDBOX_DATA");
        start.Environment.Remove("SANDBOX_AGENT");
        start.Environment.Remove("SANDBOX_API_KEY");
        start.Environment["Sandbox__LogDirectory"] = Path.Join(Path.GetTempPath(), "sandbox-mcp-setup-logs-" + Guid.NewGuid().ToString("N"));
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + fileName);
        var stderr = process.StandardError.ReadToEndAsync(Token);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("sandbox mcp kept running where it should have refused to start");
        }

        return (process.ExitCode, await stderr);
    }
}
