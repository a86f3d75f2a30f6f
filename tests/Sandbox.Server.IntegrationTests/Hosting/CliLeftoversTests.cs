using System.Diagnostics;
using System.Text.Json.Nodes;
using Sandbox.Server.IntegrationTests.Support;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Hosting;

/// <summary>
/// The CLI as CI uses it: a real <c>sandbox</c> process per command, against the real daemon. A run's container is removed
/// after its result is returned; a command that ended right after its run exited before that removal, and left its last
/// container to the reaper (seen after <c>make doctor</c>: the last self-test's container, exited, still there). `sandbox doctor`, `reap`,
/// `mcp` and `runs replay` dispose their host the same way.
/// </summary>
[Trait("Category", "Integration")]
public sealed class CliLeftoversTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SandboxRun_LeavesNoContainerWhenItExits()
    {
        var program = Path.Join(Path.GetTempPath(), "cli-leftovers-" + Guid.NewGuid().ToString("N") + ".sh");
        await File.WriteAllTextAsync(program, "echo hello\n", Token);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var (code, stdout, stderr) = await CliAsync("run", "--lang", "bash", "--runtime", "runsc", "--json", program);
                code.ShouldBe(0, stderr);
                var result = JsonNode.Parse(stdout)!;
                ((string?)result["status"]).ShouldBe("ok", stdout);
                var runId = (string)result["runId"]!;
                (await DockerProbe.ContainersOfRunAsync(runId)).ShouldBeEmpty($"run {runId}'s container outlived `sandbox run`");
            }
        }
        finally
        {
            File.Delete(program);
        }
    }

    private static async Task<(int Code, string Stdout, string Stderr)> CliAsync(params string[] args)
    {
        var (fileName, prefix) = Mcp.McpProcess.SandboxExecutable();
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in prefix.Concat(args).Concat(["--profiles", Path.Join(RepositoryRoot.Path, "images")]))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Token);
        var stderr = process.StandardError.ReadToEndAsync(Token);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(180));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
