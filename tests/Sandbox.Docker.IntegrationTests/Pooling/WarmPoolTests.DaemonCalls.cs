using Sandbox.Core.Profiles;
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
        var claimed = new List<string>();
        pooled.Pool.Claimed = id => claimed.Add(id);

        for (var i = 0; i < 12; i++)
        {
            await pooled.WaitIdleAsync(1);
            // Exit status 3 from the program: the wrapper's end line says so, and the daemon's wait is not needed to learn it.
            var result = await pooled.Pipeline.RunAsync(Python("print('hi')\nraise SystemExit(3)"), Token);
            result.Status.ShouldBe(RunStatus.RuntimeError, result.Message + result.Stderr);
            result.ExitCode.ShouldBe(3);
            result.Stdout.ShouldBe("hi\n");
        }

        await pooled.Backend.WhenRemovedAsync();
        pooled.Pool.Hits.ShouldBe(12);
        claimed.Count.ShouldBe(12);
        foreach (var id in claimed)
        {
            // Made by the pool (create, attach, start), then one claim: the run's name for recovery, and the removal. No wait:
            // the wrapper's end line and the kernel's empty cgroup tell the end (a wait held through the run, then cancelled,
            // cost a connection to dockerd per run). Under runsc the cgroup holds gVisor's sandbox and gofer until the
            // container stops, so the kernel may not settle the end in time and the daemon tells it (its wait, then an inspect
            // for its OOM and removal flags), as for any end the daemon tells.
            var calls = counting.CallsFor(id);
            if (SandboxFixture.Runtime == RuntimeNames.Runsc && calls.Contains("wait"))
            {
                calls.ShouldBe(calls.Contains("inspect")
                    ? ["create", "attach", "start", "rename", "wait", "inspect", "remove"]
                    : ["create", "attach", "start", "rename", "wait", "remove"]);
            }
            else
            {
                calls.ShouldBe(["create", "attach", "start", "rename", "remove"]);
            }
        }
    }
}
