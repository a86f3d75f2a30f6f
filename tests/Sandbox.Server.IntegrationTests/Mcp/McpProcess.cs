using Sandbox.Core.Profiles;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Store;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Mcp;

/// <summary>
/// The real <c>sandbox mcp</c>, built from src/Sandbox.Cli, as a child process, and a minimal JSON-RPC client
/// over its stdio: one JSON message per line, as the MCP stdio transport frames them. Every stdout line must
/// be JSON-RPC (a log line there would corrupt the protocol for a real client), so anything else fails the
/// test; stderr is kept for failure messages.
/// </summary>
internal sealed class McpProcess : IAsyncDisposable
{
    private static readonly TimeSpan s_answerTimeout = TimeSpan.FromMinutes(2);

    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly Task _stderrPump;
    private readonly string _logDirectory;
    private readonly SemaphoreSlim _readLock = new(1, 1);
    private readonly Dictionary<int, JsonNode> _early = [];
    private int _nextId;

    private McpProcess(Process process, string logDirectory, string? dataDirectory)
    {
        _process = process;
        _logDirectory = logDirectory;
        DataDirectory = dataDirectory;
        _stderrPump = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(line);
                }
            }
        });
    }

    /// <summary>The data folder of a local-backends server (its store and audit log); null with <c>--url</c>.</summary>
    public string? DataDirectory { get; }

    /// <summary>What the server wrote on stderr so far (its logs), for failure messages.</summary>
    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>
    /// Starts <c>sandbox mcp --profiles images/ --agent mcp-test</c> with the local backends, over a fresh data
    /// folder whose store holds that agent (made the way the operator's CLI makes it).
    /// </summary>
    /// <param name="agent">The agent to create and act as; by default one allowed every profile with roomy caps.</param>
    /// <param name="holdReason">When set, the agent is put under approval with this reason.</param>
    /// <param name="environment">Extra environment variables for the server (DOCKER_HOST for a daemon that is down).</param>
    public static McpProcess Start(AgentSpec? agent = null, string? holdReason = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var dataDirectory = Path.Join(Path.GetTempPath(), "sandbox-mcp-tests-data-" + Guid.NewGuid().ToString("N"));
        agent ??= new AgentSpec { Name = "mcp-test", Profiles = ProfileLoader.Load(Path.Join(RepositoryRoot.Path, "images")).All.Select(p => p.Name).ToList(), RatePerMinute = 10_000, MaxConcurrentRuns = 64 };
        CreateAgentAsync(dataDirectory, agent, holdReason).GetAwaiter().GetResult();
        var environmentWithData = new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["SANDBOX_DATA"] = dataDirectory };
        return Launch(["mcp", "--profiles", Path.Join(RepositoryRoot.Path, "images"), "--agent", agent.Name], environmentWithData, dataDirectory);
    }

    /// <summary>Starts <c>sandbox mcp --url</c> against a running service, with <paramref name="apiKey"/> as SANDBOX_API_KEY.</summary>
    public static McpProcess StartRemote(Uri url, string apiKey) =>
        Launch(["mcp", "--url", url.AbsoluteUri], new Dictionary<string, string> { ["SANDBOX_API_KEY"] = apiKey }, dataDirectory: null);

    private static McpProcess Launch(IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, string? dataDirectory)
    {
        var (fileName, prefix) = SandboxExecutable();
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardInputEncoding = new UTF8Encoding(false),
        };
        foreach (var arg in prefix.Concat(arguments))
        {
            start.ArgumentList.Add(arg);
        }

        // Log files go to a folder of this test's own, removed afterwards; a key from the developer's shell must not leak in.
        var logDirectory = Path.Join(Path.GetTempPath(), "sandbox-mcp-tests-" + Guid.NewGuid().ToString("N"));
        start.Environment["Sandbox__LogDirectory"] = logDirectory;
        start.Environment.Remove("SANDBOX_AGENT");
        start.Environment.Remove("SANDBOX_API_KEY");
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return new McpProcess(Process.Start(start) ?? throw new InvalidOperationException("could not start " + fileName), logDirectory, dataDirectory);
    }

    private static async Task CreateAgentAsync(string dataDirectory, AgentSpec spec, string? holdReason)
    {
        await using var store = await SqliteGuardStore.OpenAsync(GuardPaths.Database(dataDirectory), TimeProvider.System, CancellationToken.None);
        var admin = new AgentAdmin(store, TimeProvider.System);
        var created = await admin.CreateAsync(spec, "test", CancellationToken.None);
        created.Ok.ShouldBeTrue(created.Message);
        if (holdReason is not null)
        {
            (await admin.SetUnderApprovalAsync(spec.Name, true, holdReason, "test", CancellationToken.None)).Ok.ShouldBeTrue();
        }
    }

    /// <summary><c>initialize</c> then <c>notifications/initialized</c>; returns the initialize result.</summary>
    public async Task<JsonNode> InitializeAsync(CancellationToken cancellationToken)
    {
        var result = await RequestAsync("initialize", new JsonObject
        {
            ["protocolVersion"] = "2025-06-18",
            ["capabilities"] = new JsonObject(),
            ["clientInfo"] = new JsonObject { ["name"] = "Sandbox.Server.IntegrationTests", ["version"] = "1.0" },
        }, cancellationToken);
        await SendAsync(new JsonObject { ["jsonrpc"] = "2.0", ["method"] = "notifications/initialized" }, cancellationToken);
        return result;
    }

    /// <summary><c>tools/call</c>; returns the call's <c>result</c> (content, structuredContent, isError).</summary>
    public async Task<JsonNode> CallToolAsync(string name, JsonObject arguments, CancellationToken cancellationToken) =>
        (await RequestAsync("tools/call", new JsonObject { ["name"] = name, ["arguments"] = arguments }, cancellationToken))["result"]
        ?? throw new InvalidOperationException($"tools/call {name} answered without a result\n{Stderr}");

    /// <summary>Sends a request and waits for the message with its id (the whole message: result or error).</summary>
    public async Task<JsonNode> RequestAsync(string method, JsonObject parameters, CancellationToken cancellationToken) =>
        await AnswerAsync(method, await SendRequestAsync(method, parameters, cancellationToken), cancellationToken);

    /// <summary>Sends a request without waiting for its answer; returns its id (for <see cref="CancelRequestAsync"/>).</summary>
    public async Task<int> SendRequestAsync(string method, JsonObject parameters, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextId);
        await SendAsync(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method, ["params"] = parameters }, cancellationToken);
        return id;
    }

    /// <summary>
    /// Sends one line of raw bytes built around a fresh id (a key given twice, a lone surrogate or bytes that are not
    /// UTF-8 cannot be written through a JsonObject) and waits for the message with that id.
    /// </summary>
    public async Task<JsonNode> RawRequestAsync(Func<int, byte[]> line, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextId);
        await _process.StandardInput.FlushAsync(cancellationToken);
        var stream = _process.StandardInput.BaseStream;
        await stream.WriteAsync(line(id), cancellationToken);
        await stream.WriteAsync("\n"u8.ToArray(), cancellationToken);
        await stream.FlushAsync(cancellationToken);
        return await AnswerAsync("a raw request", id, cancellationToken);
    }

    /// <summary>True while the server process runs.</summary>
    public bool IsRunning => !_process.HasExited;

    /// <summary>The server's resident memory now (VmRSS), or its peak (VmHWM).</summary>
    public long ResidentBytes(bool peak = false)
    {
        var name = peak ? "VmHWM" : "VmRSS";
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith(name + ":", StringComparison.Ordinal));
        return long.Parse(line[(name.Length + 1)..].Replace("kB", "", StringComparison.Ordinal).Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary><c>notifications/cancelled</c> for an earlier request, as a client that gives up on a call sends it.</summary>
    public Task CancelRequestAsync(int requestId, string reason, CancellationToken cancellationToken) =>
        SendAsync(new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["method"] = "notifications/cancelled",
            ["params"] = new JsonObject { ["requestId"] = requestId, ["reason"] = reason },
        }, cancellationToken);

    private async Task<JsonNode> AnswerAsync(string method, int id, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_answerTimeout);
        await _readLock.WaitAsync(timeout.Token);
        try
        {
            while (!_early.ContainsKey(id))
            {
                var line = await _process.StandardOutput.ReadLineAsync(timeout.Token)
                    ?? throw new InvalidOperationException($"sandbox mcp closed stdout before answering {method}\n{Stderr}");
                var message = ParseJsonRpc(line);
                if (message["id"] is { } answerId && answerId.GetValueKind() == JsonValueKind.Number)
                {
                    _early[answerId.GetValue<int>()] = message;
                }
            }

            _early.Remove(id, out var answer);
            return answer!;
        }
        finally
        {
            _readLock.Release();
        }
    }

    private JsonNode ParseJsonRpc(string line)
    {
        JsonNode? message;
        try
        {
            message = JsonNode.Parse(line);
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"sandbox mcp wrote a line on stdout that is not JSON-RPC: {line}\n{Stderr}", ex);
        }

        if (message?["jsonrpc"]?.GetValue<string>() != "2.0")
        {
            throw new InvalidOperationException($"sandbox mcp wrote a line on stdout that is not JSON-RPC 2.0: {line}");
        }

        return message;
    }

    private async Task SendAsync(JsonObject message, CancellationToken cancellationToken)
    {
        await _process.StandardInput.WriteLineAsync(message.ToJsonString().AsMemory(), cancellationToken);
        await _process.StandardInput.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// The CLI built next to this test project (UseArtifactsOutput: artifacts/bin/Sandbox.Cli/&lt;config&gt;/),
    /// in the same configuration; the apphost when there is one, else <c>dotnet sandbox.dll</c>.
    /// </summary>
    internal static (string FileName, IReadOnlyList<string> Prefix) SandboxExecutable()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;
        var folder = Path.Join(RepositoryRoot.Path, "artifacts", "bin", "Sandbox.Cli", configuration);
        var apphost = Path.Join(folder, OperatingSystem.IsWindows() ? "sandbox.exe" : "sandbox");
        if (File.Exists(apphost))
        {
            return (apphost, []);
        }

        var dll = Path.Join(folder, "sandbox.dll");
        if (File.Exists(dll))
        {
            return (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } dotnet ? dotnet : "dotnet", [dll]);
        }

        throw new InvalidOperationException($"the sandbox CLI is not built at {folder}; build src/Sandbox.Cli (the test project references it, so building the tests builds it)");
    }

    /// <summary>Closes stdin (the client hanging up), which must end the server; kills it if it does not end in time.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(exit.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        finally
        {
            await _stderrPump;
            _process.Dispose();
            _readLock.Dispose();
            if (Directory.Exists(_logDirectory))
            {
                Directory.Delete(_logDirectory, recursive: true);
            }

            if (DataDirectory is not null && Directory.Exists(DataDirectory))
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
        }
    }
}
