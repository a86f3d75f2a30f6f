using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Runs;
using Sandbox.Docker.Client;
using Sandbox.Docker.IntegrationTests.Support;
using Sandbox.Docker.Pooling;

namespace Sandbox.Docker.IntegrationTests.Cgroups;

/// <summary>
/// A run leaves no cgroup behind in any hierarchy the host mounts, read from <c>/proc/self/mounts</c> here, not through
/// the meter under test. On a hybrid host (this project's CI machine) the container runtime makes every container's
/// cgroup in the v2 tree too; an empty one left per run is kernel memory the host never gets back.
/// </summary>
[Trait("Category", "Integration")]
public sealed class CgroupCleanUpTests(SandboxFixture sandbox)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static RunRequest Python(string code) => new() { Language = "python", Code = code };

    [Fact]
    public async Task Run_Cold_LeavesItsCgroupInNoHierarchy()
    {
        await DockerRequirement.EnsureAvailableAsync(sandbox.Docker);
        var docker = DockerSandbox.Create(sandbox.RawClient, TimeProvider.System, NullLoggerFactory.Instance);
        var pipeline = new RunPipeline(sandbox.Profiles, [docker.Backend], TimeProvider.System, NullLogger<RunPipeline>.Instance);

        var result = await pipeline.RunAsync(sandbox.ForRuntime(Python("print(1)")), Token);
        await docker.Backend.WhenRemovedAsync();

        result.Status.ShouldBe(RunStatus.Ok, result.Message);
        Leftovers($"/sandbox/{result.RunId}-run").ShouldBeEmpty();
    }

    [Fact]
    public async Task Run_Warm_LeavesThePoolContainersCgroupInNoHierarchy()
    {
        await DockerRequirement.EnsureAvailableAsync(sandbox.Docker);
        var docker = DockerSandbox.Create(sandbox.RawClient, TimeProvider.System, NullLoggerFactory.Instance);
        var request = sandbox.ForRuntime(Python("import time; time.sleep(0.5); print(1)"));
        var profile = request.Profile ?? "python";
        var key = request.Runtime is { } runtime && sandbox.Profiles.TryGet(profile, out var p) && p!.Runtime != runtime ? profile + "@" + runtime : profile;
        var pool = await docker.Backend.StartPoolAsync(sandbox.Profiles.All, new WarmPoolOptions { Sizes = new() { [key] = 1 } }, NullLogger.Instance, Token);
        var pipeline = new RunPipeline(sandbox.Profiles, [docker.Backend], TimeProvider.System, NullLogger<RunPipeline>.Instance);
        Task<ContainerInspectResponse>? claimed = null;
        pool.Claimed = id => claimed = sandbox.Docker.InspectContainerAsync(id, Token);
        var until = DateTime.UtcNow.AddSeconds(30);
        while (pool.IdleIds().Count < 1)
        {
            DateTime.UtcNow.ShouldBeLessThan(until, "the pool made its container within 30 s");
            await Task.Delay(100, Token);
        }

        var result = await pipeline.RunAsync(request, Token);
        var parent = (await claimed.ShouldNotBeNull()).HostConfig?.CgroupParent;
        await docker.Backend.StopPoolAsync();

        result.Status.ShouldBe(RunStatus.Ok, result.Message);
        parent.ShouldNotBeNull().ShouldStartWith("/sandbox/pool-");
        Leftovers(parent).ShouldBeEmpty();
    }

    /// <summary>The hierarchies in which <paramref name="parent"/> still exists.</summary>
    private static List<string> Leftovers(string parent) =>
        [.. File.ReadLines("/proc/self/mounts")
            .Select(line => line.Split(' '))
            .Where(fields => fields.Length > 2 && fields[2] is "cgroup" or "cgroup2")
            .Select(fields => fields[1])
            .Where(mount => Directory.Exists(Path.Join(mount, parent)))];
}
