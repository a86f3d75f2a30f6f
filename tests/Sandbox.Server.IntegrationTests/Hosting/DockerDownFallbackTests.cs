using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Store;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Hosting;

/// <summary>
/// With Docker down, a language's run moves to its <c>-wasm</c> profile only for a caller allowed that profile. A key
/// allowed only <c>python</c> used to be moved to <c>python-wasm</c> and then refused as off its allow-list, a 403 that
/// said nothing about Docker (issue 12); it now gets the truth, a <c>sandbox_error</c> saying the Docker backend is
/// unavailable. A real <c>sandbox serve</c> with DOCKER_HOST at a socket path where no daemon listens.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DockerDownFallbackTests : IAsyncLifetime
{
    private const string AdminKey = "fallback-test-admin-key-0123456789abcdef0123456789";

    private readonly string _data = Path.Join(Path.GetTempPath(), "sandbox-fallback-" + Guid.NewGuid().ToString("N"));
    private readonly DirectoryInfo _socketDirectory = Directory.CreateTempSubdirectory("sandbox-no-docker-");
    private ServeProcess? _serve;
    private string _pythonOnly = "";
    private string _pythonAndWasm = "";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private ServeProcess Serve => _serve ?? throw new InvalidOperationException("not started");

    public async ValueTask InitializeAsync()
    {
        await using (var store = await SqliteGuardStore.OpenAsync(GuardPaths.Database(_data), TimeProvider.System, Token))
        {
            var admin = new AgentAdmin(store, TimeProvider.System);
            _pythonOnly = (await admin.CreateAsync(new AgentSpec { Name = "python-only", Profiles = ["python"] }, "test", Token)).Value!.Key;
            _pythonAndWasm = (await admin.CreateAsync(new AgentSpec { Name = "python-and-wasm", Profiles = ["python", "python-wasm"] }, "test", Token)).Value!.Key;
        }

        _serve = ServeProcess.Start(_data, AdminKey, environment: new Dictionary<string, string> { ["DOCKER_HOST"] = "unix://" + Path.Join(_socketDirectory.FullName, "docker.sock") });
        await _serve.WaitHealthyAsync(Token);
    }

    [Fact]
    public async Task Run_DockerDownAndWasmProfileAllowed_FallsBackToWasm()
    {
        var (status, body) = await PostAsync(_pythonAndWasm, new JsonObject { ["language"] = "python", ["code"] = "print(6 * 7)" });

        status.ShouldBe(HttpStatusCode.OK, body.ToJsonString());
        var result = body["result"]!;
        ((string?)result["status"]).ShouldBe("ok", body.ToJsonString());
        ((string?)result["stdout"]).ShouldBe("42\n");
        ((string?)result["profile"]).ShouldBe("python-wasm");
        ((string?)result["backend"]).ShouldBe("wasm");
    }

    [Fact]
    public async Task Run_DockerDownAndWasmProfileNotAllowed_SaysDockerIsUnavailable()
    {
        var (status, body) = await PostAsync(_pythonOnly, new JsonObject { ["language"] = "python", ["code"] = "print(6 * 7)" });

        status.ShouldBe(HttpStatusCode.OK, body.ToJsonString());
        var result = body["result"]!;
        ((string?)result["status"]).ShouldBe("sandbox_error", body.ToJsonString());
        ((string?)result["message"]).ShouldNotBeNull().ShouldContain("Docker backend is unavailable");
        ((string?)result["profile"]).ShouldBe("python", "the run stays on the profile the key may use, never python-wasm");
        ((string?)result["backend"]).ShouldBe("docker");
        body.ToJsonString().ShouldNotContain("allow-list");
    }

    [Fact]
    public async Task DryRun_DockerDownAndWasmProfileNotAllowed_NamesDockerNotTheAllowList()
    {
        var (status, body) = await PostAsync(_pythonOnly, new JsonObject { ["language"] = "python", ["code"] = "print(1)", ["dryRun"] = true });
        var (_, allowed) = await PostAsync(_pythonAndWasm, new JsonObject { ["language"] = "python", ["code"] = "print(1)", ["dryRun"] = true });

        status.ShouldBe(HttpStatusCode.OK, body.ToJsonString());
        ((bool?)body["wouldRun"]).ShouldBe(false);
        ((string?)body["profile"]).ShouldBe("python");
        var refusals = body["refusals"]!.AsArray().Select(r => (string?)r).ToList();
        refusals.ShouldContain(r => r!.Contains("docker backend is unavailable", StringComparison.OrdinalIgnoreCase), string.Join("\n", refusals));
        refusals.ShouldNotContain(r => r!.Contains("allow-list", StringComparison.Ordinal));
        ((bool?)allowed["wouldRun"]).ShouldBe(true, allowed.ToJsonString());
        ((string?)allowed["profile"]).ShouldBe("python-wasm");
    }

    private async Task<(HttpStatusCode Status, JsonNode Body)> PostAsync(string key, JsonObject body)
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/runs") { Content = JsonContent.Create(body) };
        post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await Serve.Http.SendAsync(post, Token);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!);
    }

    public ValueTask DisposeAsync()
    {
        _serve?.Dispose();
        _socketDirectory.Delete(recursive: true);
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }

        return ValueTask.CompletedTask;
    }
}
