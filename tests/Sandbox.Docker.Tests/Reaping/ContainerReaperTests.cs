using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Client;
using Sandbox.Docker.Reaping;
using Sandbox.Docker.Spec;
using Sandbox.Docker.Tests.Support;

namespace Sandbox.Docker.Tests.Reaping;

public sealed class ContainerReaperTests
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Lists the containers it was given and records removals; the reaper needs nothing else.</summary>
    private sealed class ListingDocker(params ContainerSummary[] containers) : IDockerClient
    {
        public List<string> Removed { get; } = [];

        public List<IReadOnlyList<string>> Filters { get; } = [];

        public Task<IReadOnlyList<ContainerSummary>> ListContainersAsync(IReadOnlyList<string> labelFilters, CancellationToken cancellationToken)
        {
            Filters.Add(labelFilters);
            return Task.FromResult<IReadOnlyList<ContainerSummary>>([.. containers.Where(c => !Removed.Contains(c.Id))]);
        }

        public Task<bool> RemoveContainerAsync(string id, CancellationToken cancellationToken)
        {
            Removed.Add(id);
            return Task.FromResult(true);
        }

        public Task PingAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<DockerVersion> GetVersionAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<DockerInfo> GetInfoAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<string> CreateContainerAsync(ContainerCreateRequest request, string? name, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task StartContainerAsync(string id, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<IAttachedStream> AttachAsync(string id, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<ContainerWaitResponse> WaitContainerAsync(string id, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<bool> KillContainerAsync(string id, string signal, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<ContainerInspectResponse> InspectContainerAsync(string id, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task RenameContainerAsync(string id, string name, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<ImageInspectResponse?> InspectImageAsync(string name, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    private static ContainerSummary Container(string id, string? deadline) => new()
    {
        Id = id,
        Labels = deadline is null
            ? new Dictionary<string, string> { [SandboxLabels.Managed] = "true", [SandboxLabels.RunId] = "run_" + id }
            : new Dictionary<string, string> { [SandboxLabels.Managed] = "true", [SandboxLabels.RunId] = "run_" + id, [SandboxLabels.Deadline] = deadline },
    };

    private static ContainerReaper Reaper(IDockerClient docker, TimeProvider time) =>
        new(docker, CgroupMeter.Detect("/nonexistent/mounts"), time, NullLogger<ContainerReaper>.Instance);

    [Fact]
    public async Task ReapOnce_RemovesExpiredAndMalformedAndKeepsLive()
    {
        var ms = s_now.ToUnixTimeMilliseconds();
        var docker = new ListingDocker(
            Container("expired", (ms - 1).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Container("live", (ms + 60_000).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Container("nodeadline", null),
            Container("garbage", "soon"));

        var removed = await Reaper(docker, new FakeTimeProvider(s_now)).ReapOnceAsync(TestContext.Current.CancellationToken);

        removed.ShouldBe(3);
        docker.Removed.ShouldBe(["expired", "nodeadline", "garbage"], ignoreOrder: true);
    }

    [Fact]
    public async Task ReapOnce_UnclaimedPoolContainerNoLongerWaitingOrNeverStarted_IsRemovedAndLiveMakingOrClaimedOnesKept()
    {
        var later = (s_now.ToUnixTimeMilliseconds() + 600_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        ContainerSummary Pool(string id, string state, string name, TimeSpan? age = null) => new()
        {
            Id = id,
            State = state,
            Created = (s_now - (age ?? TimeSpan.FromSeconds(5))).ToUnixTimeSeconds(),
            Names = ["/" + name],
            Labels = new Dictionary<string, string> { [SandboxLabels.Managed] = "true", [SandboxLabels.Pool] = "p1", [SandboxLabels.Deadline] = later },
        };
        var docker = new ListingDocker(
            Pool("spent", "exited", "sandbox-pool-aa-run"),
            Pool("waiting", "running", "sandbox-pool-bb-run"),
            Pool("claimed", "exited", Sandbox.Docker.Pooling.ClaimName.Format("run_x", s_now.ToUnixTimeMilliseconds())),
            // Created and never started: being made now (seconds old), or abandoned by a maker that died (minutes old).
            Pool("making", "created", "sandbox-pool-cc-run"),
            Pool("abandoned", "created", "sandbox-pool-dd-run", TimeSpan.FromMinutes(3)));

        var removed = await Reaper(docker, new FakeTimeProvider(s_now)).ReapOnceAsync(TestContext.Current.CancellationToken);

        removed.ShouldBe(2);
        docker.Removed.ShouldBe(["spent", "abandoned"]);
    }

    [Fact]
    public async Task ReapOnce_SessionKernelNoLongerRunning_IsRemovedAndARunningOneKept()
    {
        var later = (s_now.ToUnixTimeMilliseconds() + 3_600_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        ContainerSummary Kernel(string id, string state) => new()
        {
            Id = id,
            State = state,
            Labels = new Dictionary<string, string>
            {
                [SandboxLabels.Managed] = "true", [SandboxLabels.RunId] = "ses_" + id, [SandboxLabels.Session] = "s1", [SandboxLabels.Deadline] = later,
            },
        };
        var docker = new ListingDocker(Kernel("orphaned", "exited"), Kernel("serving", "running"));

        var removed = await Reaper(docker, new FakeTimeProvider(s_now)).ReapOnceAsync(TestContext.Current.CancellationToken);

        removed.ShouldBe(1);
        docker.Removed.ShouldBe(["orphaned"]);
    }

    [Fact]
    public async Task ReapOnce_AsksOnlyForOurLabelledContainers()
    {
        var docker = new ListingDocker();

        await Reaper(docker, new FakeTimeProvider(s_now)).ReapOnceAsync(TestContext.Current.CancellationToken);

        docker.Filters.ShouldHaveSingleItem().ShouldBe([SandboxLabels.Managed + "=true"]);
    }

    [Fact]
    public async Task RunAsync_SweepsAtStartAndThenEveryInterval()
    {
        var time = new FakeTimeProvider(s_now);
        var docker = new ListingDocker();
        using var stop = new CancellationTokenSource();

        var loop = Reaper(docker, time).RunAsync(TimeSpan.FromMinutes(1), stop.Token);
        docker.Filters.Count.ShouldBe(1);
        time.Advance(TimeSpan.FromMinutes(1));
        time.Advance(TimeSpan.FromMinutes(1));
        await WaitForAsync(() => docker.Filters.Count >= 3);
        await stop.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(loop);
        docker.Filters.Count.ShouldBe(3);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Yield();
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }
}
