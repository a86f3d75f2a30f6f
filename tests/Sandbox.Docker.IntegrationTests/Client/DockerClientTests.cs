using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Sandbox.Docker.IntegrationTests.Support;
using Sandbox.Docker.Resilience;

namespace Sandbox.Docker.Client.IntegrationTests;

/// <summary>
/// <see cref="DockerClient"/> (bare and behind <see cref="ResilientDockerClient"/>) against the real daemon and
/// <see cref="DockerRequirement.BaseImage"/>. Every container carries <c>sandbox.test=1</c> and is removed in
/// <see cref="DisposeAsync"/>, whatever the test's outcome.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DockerClientTests : IAsyncDisposable
{
    private const string MissingImage = "sandbox/does-not-exist:never";

    private readonly DockerClient _docker = DockerClient.FromEnvironment();
    private readonly ResilientDockerClient _resilient;
    private readonly ConcurrentBag<string> _created = [];
    private readonly CancellationTokenSource _timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

    public DockerClientTests()
    {
        _resilient = new ResilientDockerClient(_docker, new DockerResilienceOptions(), TimeProvider.System);
        _timeout.CancelAfter(TimeSpan.FromSeconds(60));
    }

    private CancellationToken Token => _timeout.Token;

    public async ValueTask DisposeAsync()
    {
        using var cleanup = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (string id in _created)
        {
            try
            {
                await _docker.RemoveContainerAsync(id, cleanup.Token);
            }
            catch (DockerException)
            {
                // Best effort: the daemon went away mid-test; a label sweep (sandbox.test=1) finds the rest.
            }
        }

        _docker.Dispose();
        _timeout.Dispose();
    }

    [Fact]
    public async Task PingAndVersion_RealDaemon_AnswerWithSupportedApi()
    {
        await DockerRequirement.EnsureAvailableAsync(_docker);

        await _resilient.PingAsync(Token);
        DockerVersion version = await _resilient.GetVersionAsync(Token);

        Version.Parse(version.ApiVersion).ShouldBeGreaterThanOrEqualTo(DockerClient.MinApiVersion);
        version.Version.ShouldNotBeNullOrWhiteSpace();
        DockerClient.NegotiateApiVersion(version).ShouldBeLessThanOrEqualTo(DockerClient.MaxApiVersion);
    }

    [Fact]
    public async Task GetInfo_RealDaemon_ListsRuncRuntime()
    {
        await DockerRequirement.EnsureAvailableAsync(_docker);

        DockerInfo info = await _resilient.GetInfoAsync(Token);

        info.Runtimes.ShouldNotBeNull().Keys.ShouldContain("runc");
        info.NCPU.ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task RunLifecycle_CatWithStdin_DemuxesOutputAndWaitReturnsExitCode()
    {
        await DockerRequirement.EnsureAvailableAsync(_docker);
        string id = await CreateAsync(_resilient, ["/bin/sh", "-c", "cat; echo err >&2; exit 3"]);

        // Attach before start, so not a byte of early output is lost.
        await using IAttachedStream attached = await _resilient.AttachAsync(id, Token);
        await _resilient.StartContainerAsync(id, Token);
        await attached.WriteStdinAsync("hello from stdin\n"u8.ToArray(), Token);
        await attached.CloseStdinAsync(Token);
        (string stdout, string stderr) = await ReadToEndAsync(attached);
        ContainerWaitResponse exit = await _resilient.WaitContainerAsync(id, Token);
        ContainerInspectResponse inspected = await _resilient.InspectContainerAsync(id, Token);

        stdout.ShouldBe("hello from stdin\n");
        stderr.ShouldBe("err\n");
        exit.StatusCode.ShouldBe(3);
        inspected.State.ShouldNotBeNull().Running.ShouldBeFalse();
        inspected.State.ExitCode.ShouldBe(3);
        inspected.Config.ShouldNotBeNull().Labels.ShouldNotBeNull()[DockerRequirement.TestLabelKey].ShouldBe(DockerRequirement.TestLabelValue);
        (await _resilient.RemoveContainerAsync(id, Token)).ShouldBeTrue();
        (await _resilient.RemoveContainerAsync(id, Token)).ShouldBeFalse();
        await Should.ThrowAsync<DockerNotFoundException>(() => _resilient.InspectContainerAsync(id, Token));
    }

    [Fact]
    public async Task Attach_MegabyteOfOutput_ArrivesWhole()
    {
        await DockerRequirement.EnsureAvailableAsync(_docker);
        string id = await CreateAsync(_docker, ["/bin/sh", "-c", "head -c 1048576 /dev/zero; head -c 70000 /dev/zero >&2"]);

        await using IAttachedStream attached = await _docker.AttachAsync(id, Token);
        await _docker.StartContainerAsync(id, Token);
        await attached.CloseStdinAsync(Token);
        long stdout = 0;
        long stderr = 0;
        byte[] buffer = new byte[4096];
        while (await attached.ReadAsync(buffer, Token) is (var stream, > 0) read)
        {
            buffer.AsSpan(0, read.Count).IndexOfAnyExcept((byte)0).ShouldBe(-1);
            _ = stream == StdStream.Stdout ? stdout += read.Count : stderr += read.Count;
        }

        stdout.ShouldBe(1_048_576);
        stderr.ShouldBe(70_000);
        (await _docker.WaitContainerAsync(id, Token)).StatusCode.ShouldBe(0);
    }

    [Fact]
    public async Task Attach_MegabyteThroughCat_WritesAndReadsConcurrently()
    {
        // Output is echoed while input is still being written: a writer that does not read at the same time
        // would fill every buffer on the way and deadlock, so this proves the connection is truly full duplex.
        await DockerRequirement.EnsureAvailableAsync(_docker);
        string id = await CreateAsync(_docker, ["cat"]);
        byte[] input = new byte[1 << 20];
        new Random(7).NextBytes(input);

        await using IAttachedStream attached = await _docker.AttachAsync(id, Token);
        await _docker.StartContainerAsync(id, Token);
        Task writer = Task.Run(async () =>
        {
            for (int offset = 0; offset < input.Length; offset += 64 * 1024)
            {
                await attached.WriteStdinAsync(input.AsMemory(offset, 64 * 1024), Token);
            }

            await attached.CloseStdinAsync(Token);
        }, Token);
        var output = new MemoryStream();
        byte[] buffer = new byte[16 * 1024];
        while (await attached.ReadAsync(buffer, Token) is (StdStream.Stdout, > 0) read)
        {
            output.Write(buffer, 0, read.Count);
        }

        await writer;
        output.ToArray().ShouldBe(input);
        (await _docker.WaitContainerAsync(id, Token)).StatusCode.ShouldBe(0);
    }

    [Fact]
    public async Task KillContainer_SleepingThenExited_ReturnsTrueThenFalse()
    {
        await DockerRequirement.EnsureAvailableAsync(_docker);
        string id = await CreateAsync(_resilient, ["sleep", "60"]);
        await _resilient.StartContainerAsync(id, Token);

        bool killed = await _resilient.KillContainerAsync(id, "SIGKILL", Token);
        ContainerWaitResponse exit = await _resilient.WaitContainerAsync(id, Token);
        bool killedAgain = await _resilient.KillContainerAsync(id, "SIGKILL", Token);

        killed.ShouldBeTrue();
        exit.StatusCode.ShouldBe(137);
        killedAgain.ShouldBeFalse();
    }

    [Fact]
    public async Task StartContainer_AlreadyRunning_IsSuccess()
    {
        await DockerRequirement.EnsureAvailableAsync(_docker);
        string id = await CreateAsync(_docker, ["sleep", "60"]);
        await _docker.StartContainerAsync(id, Token);

        await Should.NotThrowAsync(() => _docker.StartContainerAsync(id, Token));

        (await _docker.RemoveContainerAsync(id, Token)).ShouldBeTrue();
    }

    [Fact]
    public async Task ListContainers_ByLabels_FindsOnlyMatchingContainers()
    {
        await DockerRequirement.EnsureAvailableAsync(_docker);
        string run = Guid.NewGuid().ToString("N");
        string mine = await CreateAsync(_docker, ["true"], ("sandbox.test.run", run));
        string other = await CreateAsync(_docker, ["true"], ("sandbox.test.run", "someone-else"));

        IReadOnlyList<ContainerSummary> found = await _resilient.ListContainersAsync(
            [$"{DockerRequirement.TestLabelKey}={DockerRequirement.TestLabelValue}", $"sandbox.test.run={run}"], Token);
        IReadOnlyList<ContainerSummary> byKey = await _resilient.ListContainersAsync(["sandbox.test.run"], Token);

        found.Select(c => c.Id).ShouldBe([mine]);
        found[0].State.ShouldBe("created");
        found[0].Labels.ShouldNotBeNull()["sandbox.test.run"].ShouldBe(run);
        byKey.Select(c => c.Id).ShouldContain(mine);
        byKey.Select(c => c.Id).ShouldContain(other);
    }

    [Fact]
    public async Task InspectImage_BaseImage_ReturnsItsTag()
    {
        await DockerRequirement.EnsureAvailableAsync(_docker);

        ImageInspectResponse? image = await _resilient.InspectImageAsync(DockerRequirement.BaseImage, Token);

        image.ShouldNotBeNull().RepoTags.ShouldNotBeNull().ShouldContain(DockerRequirement.BaseImage);
        image.Id.ShouldStartWith("sha256:");
    }

    [Fact]
    public async Task InspectImage_MissingImage_ReturnsNull()
    {
        await DockerRequirement.EnsureAvailableAsync(_docker);

        ImageInspectResponse? image = await _resilient.InspectImageAsync(MissingImage, Token);

        image.ShouldBeNull();
    }

    [Fact]
    public async Task CreateContainer_MissingImage_ThrowsNotFoundNamingMakeImages()
    {
        await DockerRequirement.EnsureAvailableAsync(_docker);

        var ex = await Should.ThrowAsync<DockerNotFoundException>(() => CreateAsync(_resilient, ["true"], image: MissingImage));

        ex.StatusCode.ShouldBe(404);
        ex.Endpoint.ShouldBe("POST /containers/create");
        ex.IsTransient.ShouldBeFalse();
        ex.Message.ShouldContain(MissingImage);
        ex.Message.ShouldContain("make images");
        ex.DaemonMessage.ShouldNotBeNull().ShouldContain("No such image");
    }

    [Fact]
    public async Task CreateContainer_UnknownRuntime_ThrowsWithDaemonMessage()
    {
        await DockerRequirement.EnsureAvailableAsync(_docker);
        var request = Request(["true"], DockerRequirement.BaseImage, []) with
        {
            HostConfig = new HostConfig { NetworkMode = "none", Runtime = "no-such-runtime" },
        };

        var ex = await Should.ThrowAsync<DockerException>(() => _docker.CreateContainerAsync(request, null, Token));

        ex.StatusCode.ShouldBe(400);
        ex.Message.ShouldContain("runtime");
    }

    [Fact]
    public async Task ContainerCalls_MissingContainer_MapToNotFoundOrFalse()
    {
        await DockerRequirement.EnsureAvailableAsync(_docker);
        const string missing = "sandbox-test-no-such-container";

        await Should.ThrowAsync<DockerNotFoundException>(() => _docker.StartContainerAsync(missing, Token));
        await Should.ThrowAsync<DockerNotFoundException>(() => _docker.AttachAsync(missing, Token));
        await Should.ThrowAsync<DockerNotFoundException>(() => _docker.WaitContainerAsync(missing, Token));
        (await _docker.KillContainerAsync(missing, "SIGKILL", Token)).ShouldBeFalse();
        (await _docker.RemoveContainerAsync(missing, Token)).ShouldBeFalse();
    }

    [Fact]
    public async Task Ping_UnreachableSocket_ThrowsUnavailableQuickly()
    {
        using var client = new DockerClient(new DockerEndpoint($"/tmp/sandbox-no-daemon-{Guid.NewGuid():N}.sock"));
        var resilient = new ResilientDockerClient(
            client, new DockerResilienceOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(10), RetryMaxDelay = TimeSpan.FromMilliseconds(20) }, TimeProvider.System);
        var stopwatch = Stopwatch.StartNew();

        var direct = await Should.ThrowAsync<DockerUnavailableException>(() => client.PingAsync(Token));
        var retried = await Should.ThrowAsync<DockerUnavailableException>(() => resilient.PingAsync(Token));

        stopwatch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(3));
        direct.IsTransient.ShouldBeTrue();
        direct.StatusCode.ShouldBeNull();
        direct.Message.ShouldContain("is dockerd running?");
        direct.Message.ShouldContain("does not exist");
        retried.Endpoint.ShouldBe("GET /_ping");
    }

    private static ContainerCreateRequest Request(IReadOnlyList<string> cmd, string image, IEnumerable<(string Key, string Value)> labels)
    {
        var allLabels = new Dictionary<string, string> { [DockerRequirement.TestLabelKey] = DockerRequirement.TestLabelValue };
        foreach ((string key, string value) in labels)
        {
            allLabels[key] = value;
        }

        return new ContainerCreateRequest
        {
            Image = image,
            Cmd = cmd,
            Labels = allLabels,
            AttachStdin = true,
            AttachStdout = true,
            AttachStderr = true,
            OpenStdin = true,
            StdinOnce = true,
            // The tests need no network; "none" also works with the daemon's bridge disabled.
            HostConfig = new HostConfig { NetworkMode = "none", LogConfig = new LogConfig { Type = "none" } },
        };
    }

    private async Task<string> CreateAsync(
        IDockerClient client, IReadOnlyList<string> cmd, (string Key, string Value)? label = null, string image = DockerRequirement.BaseImage)
    {
        string id = await client.CreateContainerAsync(Request(cmd, image, label is { } l ? [l] : []), null, Token);
        _created.Add(id);
        return id;
    }

    private async Task<(string Stdout, string Stderr)> ReadToEndAsync(IAttachedStream attached)
    {
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        byte[] buffer = new byte[1024];
        while (await attached.ReadAsync(buffer, Token) is (var stream, > 0) read)
        {
            (stream == StdStream.Stderr ? stderr : stdout).Write(buffer, 0, read.Count);
        }

        return (Encoding.UTF8.GetString(stdout.ToArray()), Encoding.UTF8.GetString(stderr.ToArray()));
    }
}
