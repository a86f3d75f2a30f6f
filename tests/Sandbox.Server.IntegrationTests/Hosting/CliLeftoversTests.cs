using System.Text.Json.Nodes;
using Sandbox.Server.IntegrationTests.Support;

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
                var (code, stdout, stderr) = await SandboxCli.RunAsync(["run", "--lang", "bash", "--runtime", "runsc", "--json", program], TimeSpan.FromSeconds(180), Token);
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
}
