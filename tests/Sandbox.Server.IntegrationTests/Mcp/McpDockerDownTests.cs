using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Sandbox.Guard.Agents;

namespace Sandbox.Server.IntegrationTests.Mcp;

/// <summary>
/// With the Docker daemon down, a Docker language's tool results tell the model that the sandbox failed, and
/// nothing about the host: no path, no socket address, no advice to start dockerd (that is the operator's job,
/// and the model may be steered by hostile code). The real <c>sandbox mcp</c>, with DOCKER_HOST at a socket
/// path where no daemon listens.
/// </summary>
[Trait("Category", "Integration")]
public sealed partial class McpDockerDownTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunCode_DockerDown_ResultNamesNoHostPathSocketOrDaemon()
    {
        var socketDirectory = Directory.CreateTempSubdirectory("sandbox-mcp-no-docker-");
        try
        {
            // The socket answers at start (a link to the real daemon's), then goes away: Docker restarting under a
            // server that believes it is up, the case where the Docker client's own message used to reach the model.
            var socket = Path.Join(socketDirectory.FullName, "docker.sock");
            File.CreateSymbolicLink(socket, "/var/run/docker.sock");
            var agent = new AgentSpec { Name = "mcp-no-docker", Profiles = ["bash", "c"], RatePerMinute = 1000, MaxConcurrentRuns = 4, DailyRuns = 1000, DailyCpuSeconds = 600 };
            await using var server = McpProcess.Start(agent, environment: new Dictionary<string, string> { ["DOCKER_HOST"] = "unix://" + socket });
            await server.InitializeAsync(Token);
            File.Delete(socket);

            foreach (var language in new[] { "bash", "c" })
            {
                var result = await server.CallToolAsync("run_code", new JsonObject { ["language"] = language, ["code"] = "echo hi", ["purpose"] = "Docker-down test" }, Token);

                TestContext.Current.TestOutputHelper?.WriteLine(result.ToJsonString());
                result["isError"]!.GetValue<bool>().ShouldBeTrue(result.ToJsonString());
                result["structuredContent"]!["status"]!.GetValue<string>().ShouldBe("sandbox_error", result.ToJsonString());
                var everything = result.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
                everything.ShouldNotContain("unix://", Case.Insensitive);
                everything.ShouldNotContain("dockerd", Case.Insensitive);
                everything.ShouldNotContain(socketDirectory.FullName);
                RootedPath().IsMatch(everything).ShouldBeFalse($"a /-rooted path reached the model: {RootedPath().Match(everything).Value}\n{everything}");
            }
        }
        finally
        {
            socketDirectory.Delete(recursive: true);
        }
    }

    /// <summary>An absolute path such as /var/run/docker.sock; a lone /tmp (the sandbox's own) is not the host's.</summary>
    [GeneratedRegex(@"(?<![\w.])/[\w.@+~-]+/[\w.@+~-]+")]
    private static partial Regex RootedPath();
}
