using Sandbox.Core.Runs;
using Sandbox.Docker.IntegrationTests.Support;

namespace Sandbox.Docker.IntegrationTests.Pooling;

/// <summary>What a warm run asks of the daemon: at concurrency 8 every call is CPU the runs share (issue 13).</summary>
public sealed partial class WarmPoolTests
{
    [Fact]
    public async Task Run_ClaimedAndEndsByItself_AsksTheDaemonOnlyToNameAndRemoveItsContainer()
    {
        var counting = new CountingDockerClient(sandbox.RawClient);
        await using var pooled = await PooledAsync(size: 1, client: counting);
        string? claimed = null;
        pooled.Pool.Claimed = id => claimed = id;
        await pooled.WaitIdleAsync(1);

        // Exit status 3 from the program: the wrapper's end line says so, and the daemon's wait is not needed to learn it.
        var result = await pooled.Pipeline.RunAsync(Python("print('hi')\nraise SystemExit(3)"), Token);
        await pooled.Backend.WhenRemovedAsync();

        result.Status.ShouldBe(RunStatus.RuntimeError, result.Message + result.Stderr);
        result.ExitCode.ShouldBe(3);
        result.Stdout.ShouldBe("hi\n");
        pooled.Pool.Hits.ShouldBe(1);
        // Made by the pool (create, attach, start), then one claim: the run's name for recovery, and the removal.
        counting.CallsFor(claimed.ShouldNotBeNull()).ShouldBe(["create", "attach", "start", "rename", "remove"]);
    }
}
