using System.Text.Json.Nodes;

namespace Sandbox.Server.IntegrationTests.Mcp;

/// <summary>
/// One <c>sandbox mcp</c> process for the MCP tests, initialized once. It also decides what a missing Docker
/// means: on CI (<c>CI=true</c>) the tests fail, because a green run without Docker proves nothing; on a
/// developer machine they are skipped with the fix.
/// </summary>
public sealed class McpProcessFixture : IAsyncLifetime
{
    private McpProcess? _server;

    internal McpProcess Server => _server ?? throw new InvalidOperationException("not initialized");

    /// <summary>The initialize result (serverInfo, capabilities).</summary>
    public JsonNode Initialize { get; private set; } = new JsonObject();

    /// <summary>Why the Docker backend cannot serve python, or null when it can.</summary>
    public string? DockerProblem { get; private set; }

    /// <summary>runsc selects the python-gvisor profile; anything else runs the profiles' own runtime (crun). <c>make test</c> sets runc.</summary>
    public static string Runtime { get; } = Environment.GetEnvironmentVariable("SANDBOX_TEST_RUNTIME") is { Length: > 0 } r ? r : "runc";

    /// <summary>The python profile for the runtime under test (gVisor needs its own profile's pids and memory).</summary>
    public static string? PythonProfile => Runtime == "runsc" ? "python-gvisor" : null;

    private static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public async ValueTask InitializeAsync()
    {
        _server = McpProcess.Start();
        Initialize = (await Server.InitializeAsync(CancellationToken.None))["result"]
            ?? throw new InvalidOperationException("initialize answered without a result\n" + Server.Stderr);

        // With Docker down the server falls back to python-wasm and says so in list_languages.
        var languages = await Server.CallToolAsync("list_languages", [], CancellationToken.None);
        var python = languages["structuredContent"]?["languages"]?.AsArray().FirstOrDefault(l => l?["language"]?.GetValue<string>() == "python");
        DockerProblem = python?["backend"]?.GetValue<string>() == "docker"
            ? null
            : "Docker is not reachable (python is not served by the docker backend); start Docker and run `make images`";
    }

    /// <summary>Fails on CI, skips locally, when the Docker backend is not there (or a run said its image is missing).</summary>
    public void RequireDocker(string? problem = null)
    {
        problem ??= DockerProblem;
        if (problem is null)
        {
            return;
        }

        if (IsCi)
        {
            Assert.Fail($"{problem} (CI=true: integration tests never skip on CI)");
        }

        Assert.Skip($"{problem} (skipped locally; on CI this fails)");
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
