using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Store;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Hosting;

/// <summary>
/// Docker that is not there when the service starts, then is: the service uses it again without a restart, and
/// /readyz follows within about a second. The daemon is real; only its socket path appears late (a symbolic link
/// to the real socket, made after the service started), so no other test's daemon is disturbed.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DockerRecoveryTests
{
    private const string AdminKey = "recovery-test-admin-key-0123456789abcdef0123456789";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DockerDownAtStart_ThenUp_IsUsedAgainWithoutARestart()
    {
        var data = Path.Join(Path.GetTempPath(), "sandbox-recovery-" + Guid.NewGuid().ToString("N"));
        var socketDir = Directory.CreateTempSubdirectory("sandbox-docker-late-");
        var socket = Path.Join(socketDir.FullName, "docker.sock");
        string key;
        await using (var store = await SqliteGuardStore.OpenAsync(GuardPaths.Database(data), TimeProvider.System, Token))
        {
            var created = await new AgentAdmin(store, TimeProvider.System).CreateAsync(new AgentSpec { Name = "recovery", Profiles = ["python", "python-wasm"] }, "test", Token);
            key = created.Value.ShouldNotBeNull(created.Message).Key;
        }

        try
        {
            using var serve = ServeProcess.Start(data, AdminKey, environment: new Dictionary<string, string> { ["DOCKER_HOST"] = "unix://" + socket });
            await serve.WaitHealthyAsync(Token);
            (await DockerCheckAsync(serve)).ShouldBeFalse("no daemon behind the socket path yet");
            (await RunBackendAsync(serve, key)).ShouldBe("wasm", "with Docker down, Python falls back to python-wasm");

            File.CreateSymbolicLink(socket, "/var/run/docker.sock");
            var clock = Stopwatch.StartNew();
            while (!await DockerCheckAsync(serve))
            {
                clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5), "/readyz must see the daemon within a couple of seconds");
                await Task.Delay(100, Token);
            }

            // The service's own re-check runs every second: within a few, runs use Docker again.
            var backend = "wasm";
            while (backend != "docker" && clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                backend = await RunBackendAsync(serve, key);
            }

            backend.ShouldBe("docker", "a daemon that answers again is used again without restarting the service");
        }
        finally
        {
            socketDir.Delete(recursive: true);
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<bool> DockerCheckAsync(ServeProcess serve)
    {
        using var response = await serve.Http.GetAsync("/readyz", Token);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!;
        return body["checks"]!.AsArray().Any(c => (string?)c!["name"] == "docker" && (bool)c["ok"]!);
    }

    private static async Task<string> RunBackendAsync(ServeProcess serve, string key)
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/runs") { Content = JsonContent.Create(new { language = "python", code = "print(1)", purpose = "which backend" }) };
        post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await serve.Http.SendAsync(post, Token);
        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!["result"]!;
        ((string?)result["status"]).ShouldBe("ok", result.ToJsonString());
        return (string)result["backend"]!;
    }
}
