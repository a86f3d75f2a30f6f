using Sandbox.Docker.Client;
using Sandbox.Docker.Execution;
using Sandbox.Docker.Tests.Support;

namespace Sandbox.Docker.Tests.Execution;

/// <summary>The image content id the receipt records and the run executes: asked once per few seconds, never holding admission.</summary>
public sealed class ImageDigestsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ResolveAsync_ImagePresent_ReturnsItsId_AskingTheDaemonOncePerFreshnessWindow()
    {
        var time = new FakeTimeProvider();
        var docker = new FakeDockerClient { Image = new ImageInspectResponse { Id = "sha256:abc" } };
        var digests = new ImageDigests(docker, time);

        (await digests.ResolveAsync("sandbox/python:latest", Ct)).ShouldBe("sha256:abc");
        (await digests.ResolveAsync("sandbox/python:latest", Ct)).ShouldBe("sha256:abc");
        docker.Calls(DockerOperation.InspectImage).ShouldBe(1);

        time.Advance(TimeSpan.FromSeconds(6));
        docker.Image = new ImageInspectResponse { Id = "sha256:def" };
        (await digests.ResolveAsync("sandbox/python:latest", Ct)).ShouldBe("sha256:def", "a moved tag is seen once the answer is stale");
        docker.Calls(DockerOperation.InspectImage).ShouldBe(2);
    }

    [Fact]
    public async Task ResolveAsync_NoSuchImage_IsNull() =>
        (await new ImageDigests(new FakeDockerClient(), new FakeTimeProvider()).ResolveAsync("sha256:gone", Ct)).ShouldBeNull();

    [Fact]
    public async Task ResolveAsync_DaemonUnavailable_IsNull()
    {
        var docker = new FakeDockerClient();
        docker.FailWith(_ => new DockerUnavailableException("down", "unix:///var/run/docker.sock"));

        (await new ImageDigests(docker, new FakeTimeProvider()).ResolveAsync("sandbox/python:latest", Ct)).ShouldBeNull();
    }

    [Fact]
    public async Task ResolveAsync_DaemonHangs_IsNullAtTheLookupTimeout()
    {
        var time = new FakeTimeProvider();
        var docker = new FakeDockerClient { Behavior = (_, ct) => Task.Delay(Timeout.Infinite, ct) };
        var resolving = new ImageDigests(docker, time).ResolveAsync("sandbox/python:latest", Ct);

        time.Advance(ImageDigests.LookupTimeout - TimeSpan.FromMilliseconds(1));
        resolving.IsCompleted.ShouldBeFalse();
        time.Advance(TimeSpan.FromMilliseconds(1));

        (await resolving.WaitAsync(TimeSpan.FromSeconds(5), Ct)).ShouldBeNull();
    }
}
