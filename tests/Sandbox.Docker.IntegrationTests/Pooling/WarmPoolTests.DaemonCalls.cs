using System.Globalization;
using Sandbox.Core.Runs;
using Sandbox.Docker.IntegrationTests.Support;

namespace Sandbox.Docker.IntegrationTests.Pooling;

/// <summary>What a warm run asks of the daemon: at concurrency 8 every call is CPU the runs share (issue 13).</summary>
public sealed partial class WarmPoolTests
{
    [Fact]
    public async Task Run_ClaimedAndEndsByItself_AsksTheDaemonOnlyToNameWaitForAndRemoveItsContainer()
    {
        var counting = new CountingDockerClient(sandbox.RawClient);
        await using var pooled = await PooledAsync(size: 1, client: counting);
        var claimed = new List<string>();
        pooled.Pool.Claimed = id => claimed.Add(id);
        var since = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 1;

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
            // Made by the pool (create, attach, start), then one claim: the run's name for recovery, the wait that the
            // daemon has seen the exit (after the run answered), and the removal.
            counting.CallsFor(id).ShouldBe(["create", "attach", "start", "rename", "wait", "remove"]);
        }

        // The harm the wait before the removal avoids: dockerd killing (containerd, the shim, a runtime process) a
        // container whose processes had already ended, because the removal came before it handled the exit.
        var killed = await DockerEventsAsync(since, "kill");
        claimed.Where(killed.Contains).ShouldBeEmpty("no claimed container that ended by itself is killed by its removal");
    }

    /// <summary>The ids of containers with <paramref name="action"/> events from <paramref name="sinceUnix"/> until now.</summary>
    private static async Task<IReadOnlySet<string>> DockerEventsAsync(long sinceUnix, string action)
    {
        var start = new System.Diagnostics.ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["events", "--since", sinceUnix.ToString(CultureInfo.InvariantCulture),
                     "--until", (DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1).ToString(CultureInfo.InvariantCulture),
                     "--filter", "type=container", "--filter", "event=" + action, "--format", "{{.Actor.ID}}"])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync(Token);
        await process.WaitForExitAsync(Token);
        process.ExitCode.ShouldBe(0, await process.StandardError.ReadToEndAsync(Token));
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
    }
}
