using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;

namespace Sandbox.Server.IntegrationTests.Faults;

/// <summary>
/// Fault 6 of issue 11: Docker down when the service starts kept Docker runs off until the next restart (Python went to
/// python-wasm, or was refused for a python-only key). The daemon is real; only its socket path appears late (a symbolic
/// link to the real socket, made after the service started), so no other test's daemon is disturbed. The service uses
/// Docker again without a restart, /readyz follows within about a second, and the runs of the outage are not held
/// against the agents.
/// </summary>
[Collection(FaultInjectionCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DockerDownAtStartTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DockerDownAtStart_ThenUp_IsUsedAgainWithoutARestart()
    {
        var socketDir = Directory.CreateTempSubdirectory("sandbox-docker-late-");
        var socket = Path.Join(socketDir.FullName, "docker.sock");
        await using var service = FaultService.Create("docker-late");
        var both = await service.CreateAgentAsync("late-both", ["python", "python-wasm", "bash"]);
        var pythonOnly = await service.CreateAgentAsync("late-python", ["python", "bash"]);
        try
        {
            await service.StartAsync(new Dictionary<string, string> { ["DOCKER_HOST"] = "unix://" + socket });
            (await DockerCheckAsync(service)).ShouldBeFalse("no daemon behind the socket path yet");
            (await RunBackendAsync(service, both)).ShouldBe("wasm", "with Docker down, Python falls back to python-wasm");

            // A python-only key may not fall back: its run keeps its own profile and ends sandbox_error (our fault, charged
            // nothing), never 403 for a profile it did not ask for (its fault).
            var outage = Stopwatch.StartNew();
            var (downStatus, down, downResponse) = await service.PostRunAsync(pythonOnly, new { language = "python", code = "print(1)", purpose = "no fallback allowed" });
            downResponse.Dispose();
            var during = FaultService.Invariant($"python-only key during the outage: {(int)downStatus} {down["result"]?["status"]} in {outage.Elapsed.TotalSeconds:0.00} s");
            downStatus.ShouldBe(HttpStatusCode.OK, down.ToJsonString());
            ((string?)down["result"]!["status"]).ShouldBe("sandbox_error", down.ToJsonString());
            ((string?)down["result"]!["profile"]).ShouldBe("python", down.ToJsonString());

            File.CreateSymbolicLink(socket, "/var/run/docker.sock");
            var clock = Stopwatch.StartNew();
            while (!await DockerCheckAsync(service))
            {
                clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5), "/readyz must see the daemon within a couple of seconds");
                await Task.Delay(100, Token);
            }

            var ready = clock.Elapsed;

            // The service's own re-check runs every second: within a few, runs use Docker again.
            var backend = "wasm";
            while (backend != "docker" && clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                backend = await RunBackendAsync(service, both);
            }

            backend.ShouldBe("docker", "a daemon that answers again is used again without restarting the service");
            var recovered = clock.Elapsed;
            (await RunBackendAsync(service, pythonOnly)).ShouldBe("docker", "the python-only key is served again too");
            FaultService.Report(FaultService.Invariant($"fault 6: /readyz saw the daemon after {ready.TotalSeconds:0.00} s, runs used Docker after {recovered.TotalSeconds:0.00} s; {during}; RSS {service.RssMiB():0} MiB"));

            await service.AssertFollowUpAdmittedAsync(both, "late-both");
            await service.AssertFollowUpAdmittedAsync(pythonOnly, "late-python");
            await service.AssertNoContainerLeftAsync(TimeSpan.FromSeconds(5));
            service.Serve!.Kill();
            await service.AssertAuditIntactAsync();
        }
        finally
        {
            socketDir.Delete(recursive: true);
        }
    }

    private static async Task<bool> DockerCheckAsync(FaultService service)
    {
        using var response = await service.Http.GetAsync("/readyz", Token);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!;
        return body["checks"]!.AsArray().Any(c => (string?)c!["name"] == "docker" && (bool)c["ok"]!);
    }

    private static async Task<string> RunBackendAsync(FaultService service, string key)
    {
        var (status, view, response) = await service.PostRunAsync(key, new { language = "python", code = "print(1)", purpose = "which backend" });
        response.Dispose();
        status.ShouldBe(HttpStatusCode.OK, view.ToJsonString());
        var result = view["result"]!;
        ((string?)result["status"]).ShouldBe("ok", result.ToJsonString());
        return (string)result["backend"]!;
    }
}
