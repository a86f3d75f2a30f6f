using Sandbox.Cli.Hosting;
using Sandbox.Cli.Tests.Support;

namespace Sandbox.Cli.Tests.Commands;

/// <summary>
/// A data folder without a store (a mistyped <c>--data</c> or <c>$SANDBOX_DATA</c>): every command but
/// <c>agents create</c> stops with 78 naming the file it looked for, and creates nothing there. Before, each
/// one quietly created a new, empty store and answered from it ("no agents", "chain intact: 0 records").
/// </summary>
[Collection(nameof(ConsoleUsers))]
public sealed class GuardStoreMissingTests : IDisposable
{
    private readonly GuardCli _cli = new();

    [Theory]
    [InlineData("agents list")]
    [InlineData("agents show ci-bot")]
    [InlineData("agents rotate ci-bot")]
    [InlineData("agents revoke ci-bot")]
    [InlineData("agents hold ci-bot --reason odd")]
    [InlineData("approvals list")]
    [InlineData("approvals show apr_0123")]
    [InlineData("approvals approve apr_0123")]
    [InlineData("audit verify")]
    [InlineData("audit show")]
    public async Task Command_StoreMissing_Exits78NamingTheFileAndCreatesNothing(string command)
    {
        var output = await _cli.RunAsync(command.Split(' '));

        output.Code.ShouldBe(AdminExitCodes.BadConfiguration, output.ToString());
        output.Stderr.ShouldContain($"no store at {_cli.DatabasePath}", Case.Sensitive, output.ToString());
        output.Stderr.ShouldContain("--data");
        output.Stdout.ShouldBeEmpty();
        File.Exists(_cli.DatabasePath).ShouldBeFalse("a read of a missing store must not create an empty one");
        Directory.Exists(_cli.DataDirectory).ShouldBeFalse();
    }

    [Fact]
    public async Task AgentsCreate_StoreMissing_CreatesTheStore()
    {
        var (id, _) = await _cli.CreateAgentAsync("ci-bot");

        File.Exists(_cli.DatabasePath).ShouldBeTrue();
        var list = await _cli.RunAsync("agents", "list");
        list.Code.ShouldBe(0, list.ToString());
        list.Stdout.ShouldContain("ci-bot");
        id.ShouldStartWith("agt_");
    }

    public void Dispose() => _cli.Dispose();
}
