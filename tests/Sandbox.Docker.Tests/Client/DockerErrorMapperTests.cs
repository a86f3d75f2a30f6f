namespace Sandbox.Docker.Client.Tests;

// DockerOperation is internal and xunit test methods are public, so theories name operations as strings.
public sealed class DockerErrorMapperTests
{
    [Fact]
    public void FromStatus_Create404_IsNotFoundNamingImageAndMakeImages()
    {
        DockerException ex = DockerErrorMapper.FromStatus(DockerOperation.CreateContainer, 404, "No such image: sandbox/python:latest", "sandbox/python:latest");

        ex.ShouldBeOfType<DockerNotFoundException>();
        ex.Message.ShouldContain("image 'sandbox/python:latest' is missing");
        ex.Message.ShouldContain("make images");
        ex.StatusCode.ShouldBe(404);
        ex.Endpoint.ShouldBe("POST /containers/create");
        ex.DaemonMessage.ShouldBe("No such image: sandbox/python:latest");
        ex.IsTransient.ShouldBeFalse();
    }

    [Theory]
    [InlineData(nameof(DockerOperation.InspectContainer))]
    [InlineData(nameof(DockerOperation.StartContainer))]
    [InlineData(nameof(DockerOperation.WaitContainer))]
    [InlineData(nameof(DockerOperation.AttachContainer))]
    public void FromStatus_ContainerCall404_IsNotFoundNamingContainer(string operation)
    {
        DockerException ex = DockerErrorMapper.FromStatus(Enum.Parse<DockerOperation>(operation), 404, "No such container: abc", "abc");

        ex.ShouldBeOfType<DockerNotFoundException>().Message.ShouldContain("container abc does not exist");
    }

    [Theory]
    [InlineData(nameof(DockerOperation.RemoveContainer), true)]
    [InlineData(nameof(DockerOperation.KillContainer), false)]
    [InlineData(nameof(DockerOperation.CreateContainer), false)]
    [InlineData(nameof(DockerOperation.StartContainer), false)]
    public void FromStatus_409_SettlesShortlyOnlyForRemoval(string operation, bool expected)
    {
        // dockerd's own race: "Could not kill running container X, cannot remove - Container X is not running".
        var ex = DockerErrorMapper.FromStatus(Enum.Parse<DockerOperation>(operation), 409, "Could not kill running container abc, cannot remove - Container abc is not running", "abc");

        ex.ShouldBeOfType<DockerConflictException>().SettlesShortly.ShouldBe(expected);
        ex.IsTransient.ShouldBeFalse();
    }

    [Theory]
    [InlineData(nameof(DockerOperation.CreateContainer), "name is taken")]
    [InlineData(nameof(DockerOperation.KillContainer), "is not running")]
    [InlineData(nameof(DockerOperation.RemoveContainer), "already in progress")]
    [InlineData(nameof(DockerOperation.AttachContainer), "attach before the container stops")]
    [InlineData(nameof(DockerOperation.StartContainer), "wrong state")]
    public void FromStatus_409_IsConflictWithPerEndpointReason(string operation, string reason)
    {
        DockerException ex = DockerErrorMapper.FromStatus(Enum.Parse<DockerOperation>(operation), 409, "Conflict.", "abc");

        ex.ShouldBeOfType<DockerConflictException>().Message.ShouldContain(reason);
        ex.StatusCode.ShouldBe(409);
    }

    [Fact]
    public void FromStatus_Create400_SaysSpecIsRejectedAndMentionsRuntimes()
    {
        DockerException ex = DockerErrorMapper.FromStatus(DockerOperation.CreateContainer, 400, "Unknown runtime specified runsc", "img");

        ex.GetType().ShouldBe(typeof(DockerException));
        ex.Message.ShouldContain("rejected the container spec");
        ex.Message.ShouldContain("daemon.json");
        ex.Message.ShouldContain("Unknown runtime specified runsc");
    }

    [Fact]
    public void FromStatus_Start500_ExplainsOciRuntimeErrors()
    {
        DockerException ex = DockerErrorMapper.FromStatus(DockerOperation.StartContainer, 500, "OCI runtime create failed: exec: \"nope\": not found", "abc");

        ex.Message.ShouldContain("could not start container abc");
        ex.Message.ShouldContain("OCI runtime");
        ex.IsTransient.ShouldBeFalse();
    }

    [Theory]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    public void FromStatus_GatewayOrUnavailable_IsTransientUnavailable(int status)
    {
        DockerException ex = DockerErrorMapper.FromStatus(DockerOperation.InspectContainer, status, null, "abc");

        ex.ShouldBeOfType<DockerUnavailableException>().IsTransient.ShouldBeTrue();
        ex.StatusCode.ShouldBe(status);
    }

    [Fact]
    public void FromStatus_Other500_PointsAtDaemonLog()
    {
        DockerException ex = DockerErrorMapper.FromStatus(DockerOperation.ListContainers, 500, "boom", null);

        ex.Message.ShouldContain("HTTP 500");
        ex.Message.ShouldContain("dockerd log");
        ex.IsTransient.ShouldBeFalse();
    }

    [Fact]
    public void Unreachable_MissingSocket_SaysSocketDoesNotExistAndHowToFix()
    {
        string path = $"/tmp/no-such-{Guid.NewGuid():N}.sock";

        DockerUnavailableException ex = DockerErrorMapper.Unreachable(DockerOperation.Ping, path, new IOException("x"));

        ex.Message.ShouldContain($"the socket {path} does not exist");
        ex.Message.ShouldContain("is dockerd running? start it");
        ex.Message.ShouldContain("DOCKER_HOST");
        ex.IsTransient.ShouldBeTrue();
        ex.StatusCode.ShouldBeNull();
        ex.InnerException.ShouldBeOfType<IOException>();
    }

    [Theory]
    [InlineData(nameof(DockerOperation.Ping), true)]
    [InlineData(nameof(DockerOperation.Version), true)]
    [InlineData(nameof(DockerOperation.Info), true)]
    [InlineData(nameof(DockerOperation.InspectContainer), true)]
    [InlineData(nameof(DockerOperation.ListContainers), true)]
    [InlineData(nameof(DockerOperation.InspectImage), true)]
    [InlineData(nameof(DockerOperation.KillContainer), true)]
    [InlineData(nameof(DockerOperation.RemoveContainer), true)]
    [InlineData(nameof(DockerOperation.CreateContainer), false)]
    [InlineData(nameof(DockerOperation.StartContainer), false)]
    [InlineData(nameof(DockerOperation.AttachContainer), false)]
    [InlineData(nameof(DockerOperation.WaitContainer), false)]
    public void IsSafeToRetry_EachOperation_MatchesIdempotence(string operation, bool expected)
    {
        Enum.Parse<DockerOperation>(operation).IsSafeToRetry().ShouldBe(expected);
    }
}
