using Sandbox.Cli.Hosting;
using Sandbox.Cli.Tests.Support;

namespace Sandbox.Cli.Tests.Commands;

/// <summary>
/// <c>sandbox runs replay</c>'s refusals, in-process. Replays that run code are tested against a real <c>sandbox serve</c>'s
/// data folder and a real dockerd in <c>Sandbox.Server.IntegrationTests/Http/ReplayTests</c>.
/// </summary>
[Collection(nameof(ConsoleUsers))]
public sealed class RunsCommandTests : IDisposable
{
    private readonly GuardCli _cli = new();

    [Fact]
    public async Task Replay_NoStoreInTheFolder_Exits78NamingItAndCreatesNone()
    {
        var output = await _cli.RunAsync("runs", "replay", "run_abc");

        output.Code.ShouldBe(AdminExitCodes.BadConfiguration, output.ToString());
        output.Stderr.ShouldContain(_cli.DatabasePath);
        File.Exists(_cli.DatabasePath).ShouldBeFalse("a mistyped folder does not get an empty store");
    }

    [Fact]
    public async Task Replay_UnknownRun_Exits1NamingIt()
    {
        await _cli.CreateAgentAsync("bot");

        var output = await _cli.RunAsync("runs", "replay", "run_never_was");

        output.Code.ShouldBe(AdminExitCodes.Failed, output.ToString());
        output.Stderr.ShouldContain("run_not_found");
        output.Stderr.ShouldContain("run_never_was");
        output.Stdout.ShouldBeEmpty();
    }

    public void Dispose() => _cli.Dispose();
}
