using System.Diagnostics;
using Sandbox.Server.IntegrationTests.Mcp;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Support;

/// <summary>
/// What <c>make cluster</c> starts, started by the same script (<c>eng/cluster.sh</c>), so the tests and the operators'
/// cluster cannot drift: a private PostgreSQL, three real <c>sandbox serve</c> nodes on it (this build, the repository's
/// profiles) and nginx in front, on loopback, in a temporary state folder removed at the end.
/// </summary>
/// <remarks>
/// Everything is read back from the script's <c>cluster.env</c>: nginx's URL, each node's URL, the admin key and the
/// store's connection string. A missing nginx or PostgreSQL fails the tests (the script says which package), never
/// skips them: CI installs both (<c>eng/docker-up.sh</c>).
/// </remarks>
public sealed class LocalCluster : IAsyncLifetime
{
    private readonly string _state = Path.Join(Path.GetTempPath(), "sandbox-cluster-" + Guid.NewGuid().ToString("N")[..12]);
    private Dictionary<string, string> _settings = [];

    /// <summary>nginx, in front of every node.</summary>
    public Uri Url => new(_settings["CLUSTER_URL"]);

    /// <summary>Each node directly (node-1, node-2, node-3 in order), for what must reach one particular node.</summary>
    public IReadOnlyList<Uri> NodeUrls => _settings["CLUSTER_NODE_URLS"].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(u => new Uri(u)).ToList();

    public string AdminKey => _settings["CLUSTER_ADMIN_KEY"];

    /// <summary>The shared store's connection string (it holds the cluster's password).</summary>
    public string ConnectionString => _settings["Sandbox__Store__ConnectionString"];

    public string StateFolder => _state;

    public async ValueTask InitializeAsync()
    {
        var (cli, prefix) = McpProcess.SandboxExecutable();
        prefix.ShouldBeEmpty("the cluster script starts the sandbox executable itself (an apphost), not through dotnet");
        var started = await ScriptAsync("start", new Dictionary<string, string>
        {
            ["CLUSTER_DIR"] = _state,
            ["CLUSTER_PORT"] = "0",
            ["CLUSTER_NODES"] = "3",
            ["SANDBOX_CLI"] = cli,
            ["CLUSTER_PROFILES"] = Path.Join(RepositoryRoot.Path, "images"),
            ["CLUSTER_PG_DURABLE"] = "0",

            // The slowest poll allowed (the default is 200 ms): a revocation that reaches the other nodes within 1 s
            // then does so through NOTIFY guard_changed, where the poll alone would take 500 ms on average to notice.
            ["CLUSTER_SERVE_ARGS"] = "--Sandbox:Guard:WatchInterval=00:00:01",
        });
        started.Exit.ShouldBe(0, started.ToString());
        _settings = File.ReadAllLines(Path.Join(_state, "cluster.env"))
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.StartsWith("export ", StringComparison.Ordinal) ? l["export ".Length..] : l)
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1].Trim('"'), StringComparer.Ordinal);
    }

    /// <summary>An HTTP client for one address (nginx or a node).</summary>
    public static HttpClient Client(Uri address) => new() { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };

    public async ValueTask DisposeAsync()
    {
        try
        {
            var stopped = await ScriptAsync("stop", new Dictionary<string, string> { ["CLUSTER_DIR"] = _state });
            stopped.Exit.ShouldBe(0, stopped.ToString());
        }
        finally
        {
            if (Directory.Exists(_state))
            {
                Directory.Delete(_state, recursive: true);
            }
        }
    }

    /// <summary>The log of one node (1-based), for failure messages.</summary>
    public string NodeLog(int node)
    {
        var log = Path.Join(_state, "nodes", $"node-{node}", "serve.log");
        return File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(40)) : "(no log)";
    }

    private static async Task<ChildProcess.Outcome> ScriptAsync(string verb, IReadOnlyDictionary<string, string> environment)
    {
        // Not ChildProcess.RunAsync: the fixture outlives any one test's cancellation token.
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryRoot.Path };
        foreach (var argument in (string[])[Path.Join(RepositoryRoot.Path, "eng", "cluster.sh"), verb])
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start bash");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"eng/cluster.sh {verb} did not finish within 3 minutes: {await stderr}");
        }

        return new ChildProcess.Outcome(process.ExitCode, "eng/cluster.sh " + verb, await stdout, await stderr);
    }
}
