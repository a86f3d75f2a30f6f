using Sandbox.Server.Mcp;

namespace Sandbox.Server.Tests.Mcp;

public sealed class MessageScrubberTests
{
    private const string ContainerId = "4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b";

    [Theory]
    [InlineData("cannot read /var/lib/sandbox/profiles/python.json: denied", "cannot read <path>: denied")]
    [InlineData("guest module '/home/ci/work/images/wasm/build/out/python.wasm' is missing", "guest module '<path>' is missing")]
    [InlineData("seccomp profile at /work/main/images/seccomp.json", "seccomp profile at <path>")]
    [InlineData(@"profiles in C:\Users\ci\sandbox\profiles are invalid", "profiles in <path> are invalid")]
    public void Scrub_HostPath_IsReplaced(string message, string expected) =>
        MessageScrubber.Scrub(message).ShouldBe(expected);

    /// <summary>The Docker client's own words when the daemon is down (DockerErrorMapper.Unreachable, DockerResiliencePipelines), as a tool result once showed them.</summary>
    [Theory]
    [InlineData("cannot reach the Docker daemon at unix:///var/run/docker.sock for GET /_ping: the socket /var/run/docker.sock does not exist; is dockerd running? start it (or fix DOCKER_HOST to point at its socket)",
        "cannot reach the Docker daemon at <daemon> for GET /_ping: the socket <path> does not exist")]
    [InlineData("Docker did not answer GET /_ping within 5 s; is dockerd hung or overloaded? check its log", "Docker did not answer GET /_ping within 5 s")]
    [InlineData("cannot reach the Docker daemon at tcp://10.0.0.5:2375 for POST /containers/create: refused", "cannot reach the Docker daemon at <daemon> for POST <path>: refused")]
    public void Scrub_DockerDaemonDetails_AreRemoved(string message, string expected)
    {
        var scrubbed = MessageScrubber.Scrub(message);

        scrubbed.ShouldBe(expected);
        scrubbed.ShouldNotContain("unix://");
        scrubbed.ShouldNotContain("dockerd");
    }

    [Fact]
    public void Scrub_FullContainerId_IsReplaced() =>
        MessageScrubber.Scrub($"container {ContainerId} did not start; image sha256:{ContainerId}")
            .ShouldBe("container <id> did not start; image sha256:<id>");

    [Fact]
    public void Scrub_ShortContainerId_IsReplaced() =>
        MessageScrubber.Scrub("docker: container 4f3c2b1a0e9d exited").ShouldBe("docker: container <id> exited");

    [Fact]
    public void Scrub_StackTrace_IsRemoved()
    {
        var message = "Docker answered 500\n   at Sandbox.Docker.Client.DockerClient.SendAsync(HttpRequestMessage request) in /src/Sandbox.Docker/Client/DockerClient.cs:line 42\n" +
            "   at Sandbox.Docker.Execution.DockerBackend.RunAsync(RunPlan plan, CancellationToken ct)\n";

        var scrubbed = MessageScrubber.Scrub(message);

        scrubbed.ShouldBe("Docker answered 500");
    }

    [Theory]
    [InlineData("run run_0195f3a2b4c64d7e8f90a1b2c3d4e5f6 ended")]
    [InlineData("the service at http://127.0.0.1:8080/v1/runs answered 503")]
    [InlineData("files[0].path: must be relative, such as data/input.csv")]
    [InlineData("image sandbox/python:latest is missing; run `make images`")]
    [InlineData("the program writes to /tmp only")]
    [InlineData("used 5000 ms of CPU time; wall time/CPU time")]
    [InlineData("exit code 123456789012")]
    public void Scrub_NothingHostSpecific_IsUnchanged(string message) =>
        MessageScrubber.Scrub(message).ShouldBe(message);

    [Fact]
    public void Scrub_Null_IsEmpty() => MessageScrubber.Scrub(null).ShouldBe("");

    [Fact]
    public void Scrub_EchoedInputOf200KB_IsCutAndTakesLinearTime()
    {
        // attack: a 100 KB "language" echoed into the hint took seconds (a pattern backtracked from every position).
        var message = "language '" + new string('l', 200_000) + "' is not available";
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var scrubbed = MessageScrubber.Scrub(message);

        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(1));
        scrubbed.Length.ShouldBe(MessageScrubber.MaxLength + 1);
        MessageScrubber.Scrub("a (" + new string('x', 5_000) + " start dockerd) b").ShouldBe("a b"); // still found, in linear time
    }
}
