using System.Text;
using System.Text.Json;
using Sandbox.Docker.Tests.Support;

namespace Sandbox.Docker.Client.Tests;

/// <summary>The HTTP path and the attach hijack of <see cref="DockerClient"/>, byte for byte, against <see cref="FakeDockerDaemon"/>.</summary>
public sealed class DockerClientTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("1.43", "/v1.41/info")]
    [InlineData("1.41", "/v1.41/info")]
    [InlineData("1.40", "/v1.40/info")]
    public async Task GetInfoAsync_DaemonApiVersion_UsesMinOfDaemonAndOurMax(string daemonApi, string expectedPath)
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path switch
        {
            "/version" => FakeResponse.Version(daemonApi),
            _ => FakeResponse.Json(200, """{"ServerVersion":"20.10.24","NCPU":2,"Runtimes":{"runc":{"path":"runc"}}}"""),
        });
        using var client = Client(daemon);

        DockerInfo info = await client.GetInfoAsync(Token);

        info.NCPU.ShouldBe(2);
        info.Runtimes.ShouldNotBeNull().Keys.ShouldBe(["runc"]);
        daemon.Requests.Select(r => r.Path).ShouldBe(["/version", expectedPath]);
    }

    [Fact]
    public async Task GetInfoAsync_DaemonOlderThanMinimum_ThrowsSayingUpgrade()
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path == "/version" ? FakeResponse.Version("1.39") : null);
        using var client = Client(daemon);

        var ex = await Should.ThrowAsync<DockerException>(() => client.GetInfoAsync(Token));

        ex.Message.ShouldContain("older than 1.40");
        ex.Message.ShouldContain("upgrade Docker");
        daemon.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task GetVersionAsync_DaemonTooOld_StillReturnsVersionForDoctor()
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path == "/version" ? FakeResponse.Version("1.39") : null);
        using var client = Client(daemon);

        (await client.GetVersionAsync(Token)).ApiVersion.ShouldBe("1.39");
    }

    [Fact]
    public async Task Negotiation_ManyConcurrentFirstCalls_AsksVersionOnce()
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path == "/version" ? null : FakeResponse.Error(404, "No such image"));
        using var client = Client(daemon);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => client.InspectImageAsync("x", Token)));

        daemon.Requests.Count(r => r.Path == "/version").ShouldBe(1);
        daemon.Requests.Count(r => r.Path == "/v1.41/images/x/json").ShouldBe(8);
    }

    [Fact]
    public async Task Negotiation_FirstAttemptFails_IsNotCached()
    {
        int versionCalls = 0;
        await using var daemon = new FakeDockerDaemon(r => r.Path == "/version" && Interlocked.Increment(ref versionCalls) == 1
            ? FakeResponse.Error(500, "starting up")
            : r.Path == "/version" ? null : FakeResponse.Json(200, "[]"));
        using var client = Client(daemon);

        await Should.ThrowAsync<DockerException>(() => client.ListContainersAsync([], Token));
        IReadOnlyList<ContainerSummary> list = await client.ListContainersAsync([], Token);

        list.ShouldBeEmpty();
        versionCalls.ShouldBe(2);
    }

    [Fact]
    public async Task PingAsync_Answered_UsesUnversionedPathAndHostHeader()
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path == "/_ping" ? new FakeResponse(200) { ContentType = "text/plain", Body = "OK"u8.ToArray() } : null);
        using var client = Client(daemon);

        await client.PingAsync(Token);

        FakeRequest ping = daemon.Requests.ShouldHaveSingleItem();
        ping.Method.ShouldBe("GET");
        ping.Headers["Host"].ShouldBe("docker");
        ping.Headers["User-Agent"].ShouldStartWith("Sandbox-DockerClient/");
    }

    [Fact]
    public async Task ListContainersAsync_LabelFilters_SendsEscapedJsonFilters()
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path == "/v1.41/containers/json"
            ? FakeResponse.Json(200, """[{"Id":"abc","Names":["/x"],"State":"running","Labels":{"sandbox.test":"1"},"Unknown":42}]""")
            : null);
        using var client = Client(daemon);

        IReadOnlyList<ContainerSummary> found = await client.ListContainersAsync(["sandbox.test=1", "odd key=a&b #c"], Token);

        FakeRequest list = daemon.Requests.Last();
        list.QueryValue("all").ShouldBe("true");
        list.Query.ShouldNotContain("#");
        list.QueryValue("filters").ShouldBe("""{"label":["sandbox.test=1","odd key=a\u0026b #c"]}""");
        JsonDocument.Parse(list.QueryValue("filters")!).RootElement.GetProperty("label")[1].GetString().ShouldBe("odd key=a&b #c");
        found.ShouldHaveSingleItem().Id.ShouldBe("abc");
    }

    [Fact]
    public async Task ListContainersAsync_NoFilters_SendsNoFiltersParameter()
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path == "/version" ? null : FakeResponse.Json(200, "[]"));
        using var client = Client(daemon);

        await client.ListContainersAsync([], Token);

        daemon.Requests.Last().QueryValue("filters").ShouldBeNull();
    }

    [Fact]
    public async Task CreateContainerAsync_Request_SendsPascalCaseJsonWithoutNullsAndEscapedName()
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path == "/v1.41/containers/create"
            ? FakeResponse.Json(201, """{"Id":"f00d","Warnings":[]}""")
            : null);
        using var client = Client(daemon);
        var request = new ContainerCreateRequest
        {
            Image = "sandbox/base:bookworm",
            Cmd = ["/bin/sh", "-c", "echo hi"],
            Labels = new Dictionary<string, string> { ["sandbox.test"] = "1" },
            HostConfig = new HostConfig { NetworkMode = "none", PidsLimit = 64 },
        };

        string id = await client.CreateContainerAsync(request, "run 1/2", Token);

        id.ShouldBe("f00d");
        FakeRequest create = daemon.Requests.Last();
        create.Method.ShouldBe("POST");
        create.QueryValue("name").ShouldBe("run 1/2");
        create.Headers["Content-Type"].ShouldStartWith("application/json");
        using JsonDocument body = JsonDocument.Parse(create.Body);
        body.RootElement.GetProperty("Image").GetString().ShouldBe("sandbox/base:bookworm");
        body.RootElement.GetProperty("HostConfig").GetProperty("PidsLimit").GetInt64().ShouldBe(64);
        body.RootElement.TryGetProperty("Entrypoint", out _).ShouldBeFalse();
        body.RootElement.GetProperty("HostConfig").TryGetProperty("MaskedPaths", out _).ShouldBeFalse();
    }

    [Fact]
    public async Task CreateContainerAsync_404_ThrowsNotFoundNamingImage()
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path == "/version" ? null : FakeResponse.Error(404, "No such image: sandbox/nope:1"));
        using var client = Client(daemon);

        var ex = await Should.ThrowAsync<DockerNotFoundException>(
            () => client.CreateContainerAsync(new ContainerCreateRequest { Image = "sandbox/nope:1", HostConfig = new HostConfig() }, null, Token));

        ex.DaemonMessage.ShouldBe("No such image: sandbox/nope:1");
        ex.Message.ShouldContain("make images");
    }

    [Theory]
    [InlineData(204, true)]
    [InlineData(404, false)]
    [InlineData(409, false)]
    public async Task KillContainerAsync_Status_MapsToResult(int status, bool expected)
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path == "/version" ? null : FakeResponse.Error(status, "whatever"));
        using var client = Client(daemon);

        bool killed = await client.KillContainerAsync("abc", "SIGKILL", Token);

        killed.ShouldBe(expected);
        FakeRequest kill = daemon.Requests.Last();
        kill.Target.ShouldBe("/v1.41/containers/abc/kill?signal=SIGKILL");
    }

    [Theory]
    [InlineData(204, true)]
    [InlineData(404, false)]
    public async Task RemoveContainerAsync_Status_MapsToResult(int status, bool expected)
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path == "/version" ? null : FakeResponse.Empty(status));
        using var client = Client(daemon);

        (await client.RemoveContainerAsync("abc", Token)).ShouldBe(expected);
        FakeRequest remove = daemon.Requests.Last();
        remove.Method.ShouldBe("DELETE");
        remove.Target.ShouldBe("/v1.41/containers/abc?force=true&v=true");
    }

    [Fact]
    public async Task RemoveContainerAsync_409_ThrowsConflict()
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path == "/version" ? null : FakeResponse.Error(409, "removal of container abc is already in progress"));
        using var client = Client(daemon);

        await Should.ThrowAsync<DockerConflictException>(() => client.RemoveContainerAsync("abc", Token));
    }

    [Theory]
    [InlineData(204)]
    [InlineData(304)]
    public async Task StartContainerAsync_StartedOrAlreadyRunning_Succeeds(int status)
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path == "/version" ? null : FakeResponse.Empty(status));
        using var client = Client(daemon);

        await client.StartContainerAsync("abc", Token);

        daemon.Requests.Last().Target.ShouldBe("/v1.41/containers/abc/start");
    }

    [Fact]
    public async Task InspectContainerAsync_PlainTextError_KeepsBodyAsDaemonMessage()
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path == "/version" ? null : new FakeResponse(500) { ContentType = "text/plain", Body = "plain failure\n"u8.ToArray() });
        using var client = Client(daemon);

        var ex = await Should.ThrowAsync<DockerException>(() => client.InspectContainerAsync("abc", Token));

        ex.DaemonMessage.ShouldBe("plain failure");
        ex.StatusCode.ShouldBe(500);
        ex.Endpoint.ShouldBe("GET /containers/{id}/json");
    }

    [Fact]
    public async Task InspectContainerAsync_NotJson_ThrowsReadableError()
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path == "/version" ? null : FakeResponse.Json(200, "<html>"));
        using var client = Client(daemon);

        var ex = await Should.ThrowAsync<DockerException>(() => client.InspectContainerAsync("abc", Token));

        ex.Message.ShouldContain("cannot read");
    }

    [Fact]
    public async Task InspectImageAsync_NameWithSlashColonAndTraversal_StaysOnePathSegment()
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path == "/version" ? null : FakeResponse.Error(404, "no"));
        using var client = Client(daemon);

        await client.InspectImageAsync("sandbox/base:bookworm", Token);
        await client.InspectImageAsync("../../containers/x", Token);

        var paths = daemon.Requests.Where(r => r.Path != "/version").Select(r => r.Path).ToList();
        paths[0].ShouldBe("/v1.41/images/sandbox%2Fbase%3Abookworm/json");
        paths[1].ShouldBe("/v1.41/images/..%2F..%2Fcontainers%2Fx/json");
    }

    [Fact]
    public async Task WaitContainerAsync_ExitCode_UsesNotRunningCondition()
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path == "/version" ? null : FakeResponse.Json(200, """{"Error":null,"StatusCode":137}"""));
        using var client = Client(daemon);

        ContainerWaitResponse exit = await client.WaitContainerAsync("abc", Token);

        exit.StatusCode.ShouldBe(137);
        daemon.Requests.Last().Target.ShouldBe("/v1.41/containers/abc/wait?condition=not-running");
    }

    [Fact]
    public async Task PingAsync_NoSocket_ThrowsUnavailableNamingTheFix()
    {
        using var client = new DockerClient(new DockerEndpoint($"/tmp/none-{Guid.NewGuid():N}.sock"));

        var ex = await Should.ThrowAsync<DockerUnavailableException>(() => client.PingAsync(Token));

        ex.IsTransient.ShouldBeTrue();
        ex.Message.ShouldContain("is dockerd running?");
    }

    [Fact]
    public async Task PingAsync_SocketFileWithoutListener_ThrowsUnavailable()
    {
        string path = Path.Combine(Path.GetTempPath(), $"dead-{Guid.NewGuid():N}.sock");
        using (var dead = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified))
        {
            // Bound but never listening: connect is refused, as when dockerd died and left its socket behind.
            dead.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        }

        try
        {
            using var client = new DockerClient(new DockerEndpoint(path));

            var ex = await Should.ThrowAsync<DockerUnavailableException>(() => client.PingAsync(Token));

            ex.Message.ShouldContain(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task AttachAsync_Upgrade_SendsCliHeadersKeepsEarlyFramesAndHalfClosesStdin()
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path.EndsWith("/attach", StringComparison.Ordinal)
            ? new FakeResponse(101, "UPGRADED")
            {
                ContentType = "application/vnd.docker.raw-stream",
                OmitContentLength = true,
                ExtraHeaders = new Dictionary<string, string> { ["Connection"] = "Upgrade", ["Upgrade"] = "tcp" },
                // Sent in the same write as the head: these bytes must not be lost.
                Body = Frames.Concat(Frames.Frame(StdStream.Stdout, "early "), Frames.Frame(StdStream.Stderr, "warning")),
                Hijack = EchoStdinUntilEofAsync,
            }
            : null);
        using var client = Client(daemon);

        await using IAttachedStream attached = await client.AttachAsync("abc", Token);
        await attached.WriteStdinAsync("from stdin"u8.ToArray(), Token);
        await attached.CloseStdinAsync(Token);
        await attached.CloseStdinAsync(Token);
        (string stdout, string stderr) = await ReadToEndAsync(attached);

        stdout.ShouldBe("early echo:from stdin");
        stderr.ShouldBe("warning");
        FakeRequest request = daemon.Requests.Last();
        request.Method.ShouldBe("POST");
        request.Target.ShouldBe("/v1.41/containers/abc/attach?stream=1&stdin=1&stdout=1&stderr=1");
        request.Headers["Connection"].ShouldBe("Upgrade");
        request.Headers["Upgrade"].ShouldBe("tcp");
        request.Headers["Host"].ShouldBe("docker");
        await Should.ThrowAsync<InvalidOperationException>(async () => await attached.WriteStdinAsync("late"u8.ToArray(), Token));
    }

    [Fact]
    public async Task AttachAsync_Status200FromOlderDaemon_IsTreatedAsRawStream()
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path.EndsWith("/attach", StringComparison.Ordinal)
            ? new FakeResponse(200)
            {
                ContentType = "application/vnd.docker.raw-stream",
                OmitContentLength = true,
                Hijack = async stream => await stream.WriteAsync(Frames.Frame(StdStream.Stdout, "old"), Token),
            }
            : null);
        using var client = Client(daemon);

        await using IAttachedStream attached = await client.AttachAsync("abc", Token);

        (await ReadToEndAsync(attached)).Stdout.ShouldBe("old");
    }

    [Theory]
    [InlineData(404, typeof(DockerNotFoundException))]
    [InlineData(409, typeof(DockerConflictException))]
    [InlineData(500, typeof(DockerException))]
    public async Task AttachAsync_ErrorStatus_ReadsBodyAndMapsIt(int status, Type expected)
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path == "/version" ? null : FakeResponse.Error(status, "nope from daemon"));
        using var client = Client(daemon);

        var ex = await Should.ThrowAsync<DockerException>(() => client.AttachAsync("abc", Token));

        ex.ShouldBeOfType(expected);
        ex.StatusCode.ShouldBe(status);
        ex.DaemonMessage.ShouldBe("nope from daemon");
        ex.Endpoint.ShouldBe("POST /containers/{id}/attach");
    }

    [Fact]
    public async Task AttachAsync_ContainerGoneMidStream_ReadThrowsUnavailable()
    {
        await using var daemon = new FakeDockerDaemon(r => r.Path.EndsWith("/attach", StringComparison.Ordinal)
            ? new FakeResponse(101, "UPGRADED")
            {
                OmitContentLength = true,
                Body = Frames.Header((byte)StdStream.Stdout, 100, "partial"u8),
                // Returning at once closes the connection 93 bytes short of the declared frame.
                Hijack = static _ => Task.CompletedTask,
            }
            : null);
        using var client = Client(daemon);
        await using IAttachedStream attached = await client.AttachAsync("abc", Token);
        byte[] buffer = new byte[64];

        (await attached.ReadAsync(buffer, Token)).Count.ShouldBe(7);
        await Should.ThrowAsync<DockerUnavailableException>(async () => await attached.ReadAsync(buffer, Token));
    }

    private static DockerClient Client(FakeDockerDaemon daemon) => new(new DockerEndpoint(daemon.SocketPath));

    /// <summary>Acts like <c>cat</c> in the container: stdin until the client's half-close, echoed as one stdout frame.</summary>
    private static async Task EchoStdinUntilEofAsync(System.Net.Sockets.NetworkStream stream)
    {
        var stdin = new MemoryStream();
        await stream.CopyToAsync(stdin, Token);
        await stream.WriteAsync(Frames.Frame(StdStream.Stdout, "echo:" + Encoding.UTF8.GetString(stdin.ToArray())), Token);
    }

    private static async Task<(string Stdout, string Stderr)> ReadToEndAsync(IAttachedStream attached)
    {
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        byte[] buffer = new byte[3];
        while (await attached.ReadAsync(buffer, Token) is (var stream, > 0) read)
        {
            (stream == StdStream.Stderr ? stderr : stdout).Append(Encoding.UTF8.GetString(buffer, 0, read.Count));
        }

        return (stdout.ToString(), stderr.ToString());
    }
}
