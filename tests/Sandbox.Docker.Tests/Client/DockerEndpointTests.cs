namespace Sandbox.Docker.Client.Tests;

public sealed class DockerEndpointTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("unix://")]
    public void Parse_UnsetOrBareScheme_ReturnsDefaultSocket(string? value)
    {
        DockerEndpoint.Parse(value).SocketPath.ShouldBe("/var/run/docker.sock");
    }

    [Theory]
    [InlineData("unix:///var/run/docker.sock", "/var/run/docker.sock")]
    [InlineData("unix:///run/user/1000/docker.sock", "/run/user/1000/docker.sock")]
    [InlineData("  UNIX:///tmp/d.sock  ", "/tmp/d.sock")]
    public void Parse_UnixAddress_ReturnsItsPath(string value, string expected)
    {
        DockerEndpoint endpoint = DockerEndpoint.Parse(value);

        endpoint.SocketPath.ShouldBe(expected);
        endpoint.ToString().ShouldBe("unix://" + expected);
    }

    [Theory]
    [InlineData("tcp://127.0.0.1:2375", "only unix://")]
    [InlineData("ssh://user@host", "only unix://")]
    [InlineData("npipe:////./pipe/docker_engine", "only unix://")]
    [InlineData("/var/run/docker.sock", "only unix://")]
    [InlineData("unix://relative/docker.sock", "absolute")]
    [InlineData("unix:///var/run/docker.sock?x=1", "no query")]
    public void Parse_UnsupportedValue_ThrowsNamingDockerHost(string value, string why)
    {
        var ex = Should.Throw<DockerException>(() => DockerEndpoint.Parse(value));

        ex.Message.ShouldContain("DOCKER_HOST");
        ex.Message.ShouldContain(why);
        ex.Endpoint.ShouldBe("DOCKER_HOST");
        ex.IsTransient.ShouldBeFalse();
    }

    [Fact]
    public void Parse_PathTooLongForSockaddr_Throws()
    {
        string value = "unix:///" + new string('a', 120);

        Should.Throw<DockerException>(() => DockerEndpoint.Parse(value)).Message.ShouldContain("107 bytes");
    }
}
