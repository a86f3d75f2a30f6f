using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;
using Sandbox.Server.Hosting;
using Sandbox.Server.Logging;
using Sandbox.Server.Metrics;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Mcp;

/// <summary>
/// <c>sandbox mcp</c>: logging on stderr (stdout is the protocol), a gateway (local backends, or a remote
/// Sandbox service with <c>--url</c>), then the MCP server on stdio until the client hangs up.
/// </summary>
public static partial class McpHost
{
    /// <summary>Serves MCP on stdio; returns when stdin closes or <paramref name="cancellationToken"/> fires.</summary>
    /// <param name="url">A remote Sandbox service; null for the local backends.</param>
    /// <param name="profilesPath">The profiles file or folder for the local backends (<c>--profiles</c>).</param>
    /// <param name="cancellationToken">Ctrl+C or SIGTERM: stops serving; local runs are drained first.</param>
    /// <exception cref="ProfileConfigurationException">The profiles file is invalid (local backends).</exception>
    /// <exception cref="ServerConfigurationException">The <c>Sandbox</c> settings are invalid (local backends).</exception>
    /// <param name="agent">The agent local runs act as (<c>--agent</c>); else <c>Sandbox:Guard:LocalAgent</c>, else <c>$SANDBOX_AGENT</c>.</param>
    /// <param name="dataDirectory">The guard's data folder (<c>--data</c>); else <c>Sandbox:DataDirectory</c>, else <c>$SANDBOX_DATA</c>, else <c>./data</c>.</param>
    public static async Task RunAsync(Uri? url, string? profilesPath, string? agent, string? dataDirectory, CancellationToken cancellationToken)
    {
        if (url is not null && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(RemoteRunGateway.ApiKeyVariable)))
        {
            // Refuse to start rather than serve a model tools whose every call fails on a missing key (issue 12).
            throw new ServerConfigurationException([new FieldError(RemoteRunGateway.ApiKeyVariable, $"sandbox mcp --url sends the agent's key from {RemoteRunGateway.ApiKeyVariable}, which is not set; set it to the key `sandbox agents create` printed (sbxa_…)")]);
        }

        var configuration = Configuration(profilesPath, dataDirectory);
        using var loggers = LoggerFactory.Create(logging =>
        {
            SandboxLogging.Configure(logging, configuration, consoleToStderr: true);
            // The SDK logs every request at Information; our own lines already say what each call did. The rule
            // names the Serilog provider because AddSerilog adds a provider rule (Trace) that outranks category-only rules.
            logging.AddFilter<Serilog.Extensions.Logging.SerilogLoggerProvider>("ModelContextProtocol", LogLevel.Warning);
        });
        var logger = loggers.CreateLogger(typeof(McpHost));

        if (url is not null)
        {
            using var remote = RemoteRunGateway.Create(url, TimeProvider.System);
            Log.Remote(logger, remote.BaseUrl);
            await ServeAsync(remote, profiles: null, loggers, remote, cancellationToken);
            return;
        }

        await using var local = await CreateLocalGatewayAsync(configuration, agent, loggers, cancellationToken);
        Log.Local(logger, local.ProfilesPath, local.Profiles.All.Count);
        await ServeAsync(local.Gateway, ProfileCeiling.From(local.Profiles), loggers, local.Sessions.Gateway, cancellationToken);
    }

    private static Task ServeAsync(IRunGateway gateway, IReadOnlyList<ProfileCeiling>? profiles, ILoggerFactory loggers, Sessions.ISessionGateway? sessions, CancellationToken cancellationToken)
    {
        var tools = new SandboxMcpTools(gateway, profiles, loggers.CreateLogger<SandboxMcpTools>(), sessions);
        return SandboxMcpServer.RunStdioAsync(tools, loggers, cancellationToken);
    }

    /// <summary>
    /// Settings the ASP.NET way, like the service: <c>appsettings.json</c> beside the executable, then the
    /// environment (<c>Sandbox__MaxConcurrentRuns</c>), then <c>--profiles</c>; log files default to
    /// <c>~/.local/share/sandbox/logs</c> rather than the working folder.
    /// </summary>
    private static IConfiguration Configuration(string? profilesPath, string? dataDirectory)
    {
        var builder = new ConfigurationBuilder()
            .AddJsonFile(Path.Join(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables();
        if (!string.IsNullOrEmpty(dataDirectory))
        {
            builder.AddInMemoryCollection([new($"{ServerOptions.Section}:{nameof(ServerOptions.DataDirectory)}", dataDirectory)]);
        }

        if (!string.IsNullOrEmpty(profilesPath))
        {
            builder.AddInMemoryCollection([new($"{ServerOptions.Section}:{nameof(ServerOptions.Profiles)}", profilesPath)]);
        }

        var configuration = builder.Build();
        if (string.IsNullOrEmpty(configuration["Sandbox:LogDirectory"]) && string.IsNullOrEmpty(configuration["Sandbox:DataDirectory"]) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(GuardPaths.DataDirectoryVariable)))
        {
            // An MCP client starts us in whatever folder it likes (often the user's project): the service's
            // default of ./data/logs would litter it, so log files go to the user's data folder instead.
            builder.AddInMemoryCollection([new("Sandbox:LogDirectory", DefaultLogDirectory())]);
            configuration = builder.Build();
        }

        return configuration;
    }

    private static string DefaultLogDirectory() =>
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify) is { Length: > 0 } data
            ? Path.Join(data, "sandbox", "logs")
            : Path.Join(Path.GetTempPath(), "sandbox", "logs");

    // ---------------------------------------------------------------------------------------------------
    // The one place where `sandbox mcp` builds its local gateway, from the composition root the HTTP service
    // uses too (SandboxComposition): settings, profiles, SandboxHost, a Docker ping (so languages fall back to
    // WebAssembly when Docker is down), a start-up sweep, the run lifecycle and the gateway over it.
    // ---------------------------------------------------------------------------------------------------
    private static async Task<LocalGatewayLease> CreateLocalGatewayAsync(IConfiguration configuration, string? agent, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        // One clock for the guard, the lifecycle, the pipeline and the backends.
        var time = TimeProvider.System;
        var options = SandboxComposition.LoadOptions(configuration);
        var guardOptions = GuardHost.LoadOptions(configuration, defaultNodeId: "");
        var agentName = agent is { Length: > 0 } ? agent : guardOptions.LocalAgent is { Length: > 0 } configured ? configured : Environment.GetEnvironmentVariable("SANDBOX_AGENT");
        if (string.IsNullOrEmpty(agentName))
        {
            // Fail closed: local runs are an agent's runs like any other, with its allow-list, caps and audit trail.
            throw new ServerConfigurationException([new FieldError("--agent", "sandbox mcp with local backends runs as a configured agent: create one with `sandbox agents create NAME --profile python` and pass --agent NAME (or set SANDBOX_AGENT, or Sandbox:Guard:LocalAgent)")]);
        }

        if (!File.Exists(GuardPaths.Database(options.DataDirectory)))
        {
            // sandbox mcp only reads agents: opening a store that is not there would create a new, empty one under a
            // mistyped SANDBOX_DATA and then fail on the agent, so name the folder searched instead (issue 12).
            throw new ServerConfigurationException([new FieldError("--data", $"no store at {GuardPaths.Database(options.DataDirectory)}; pass the folder `sandbox agents create` used as --data (or SANDBOX_DATA)")]);
        }

        guardOptions.NodeId = guardOptions.NodeId is { Length: > 0 } node ? node : $"mcp:{agentName}@{Environment.MachineName}";
        var guard = await GuardHost.OpenAsync(options, guardOptions, loggers, time, cancellationToken);
        Principal principal;
        try
        {
            principal = await LocalPrincipalAsync(new Guard.Agents.AgentAdmin(guard.Store, time), agentName, cancellationToken);
        }
        catch
        {
            await guard.DisposeAsync();
            throw;
        }

        var (profiles, profilesPath) = SandboxComposition.LoadProfiles(options);
        var host = SandboxHost.Create(profiles, profilesPath, time, loggers);
        try
        {
            if (await host.CheckDockerAsync(cancellationToken))
            {
                try
                {
                    await host.Reaper.ReapOnceAsync(cancellationToken);
                }
                catch (Core.Errors.SandboxException)
                {
                    // A failed sweep must not stop the server; a run that hits the same problem reports it.
                }
            }

            var coordinator = SandboxComposition.CreateLifecycle(host.Pipeline, guard, options, new SandboxMetrics(), time, loggers);
            var watching = new CancellationTokenSource();
            var watcher = GuardWatcher.RunAsync(coordinator, guardOptions.WatchInterval, time, loggers.CreateLogger<RunLifecycle>(), watching.Token, guard.Store as Guard.Store.IGuardChangeFeed);
            Log.Agent(loggers.CreateLogger(typeof(McpHost)), principal.Agent.Name);
            var gateway = new LocalRunGateway(coordinator, principal);
            var sessions = Sessions.SessionComposition.ForMcp(configuration, coordinator, host, guard, gateway, time, loggers);
            return new LocalGatewayLease(gateway, profiles, profilesPath, coordinator, host, guard, watching, watcher) { Sessions = sessions };
        }
        catch
        {
            host.Dispose();
            await guard.DisposeAsync();
            throw;
        }
    }

    /// <summary>The configured agent, which must exist, be active, and hold a live key.</summary>
    private static async Task<Principal> LocalPrincipalAsync(Guard.Agents.AgentAdmin admin, string agentName, CancellationToken cancellationToken)
    {
        static ServerConfigurationException Bad(string message) => new([new FieldError("--agent", message)]);
        var agent = await admin.FindAgentAsync(agentName, cancellationToken) ?? throw Bad($"no agent '{agentName}' in the store; create it with `sandbox agents create {agentName} --profile <profile>` (same --data folder)");
        if (!agent.IsActive(TimeProvider.System.GetUtcNow()))
        {
            throw Bad($"agent '{agent.Name}' is {(agent.RevokedAt is null ? "expired" : "revoked")}; create a new agent");
        }

        var credentials = await admin.ListCredentialsAsync(agent.Id, cancellationToken);
        var key = credentials.FirstOrDefault(c => c.Kind == Guard.Agents.CredentialKind.AgentKey && c.RevokedAt is null)
            ?? throw Bad($"agent '{agent.Name}' has no live key; rotate it with `sandbox agents rotate {agent.Name}`");
        return new Principal(agent, key);
    }

    /// <summary>The local gateway and what it needs disposed when the server stops (runs drained first).</summary>
    private sealed class LocalGatewayLease(IRunGateway gateway, ProfileSet profiles, string profilesPath, RunLifecycle coordinator, SandboxHost host, GuardHost guard, CancellationTokenSource watching, Task watcher) : IAsyncDisposable
    {
        public IRunGateway Gateway { get; } = gateway;

        public ProfileSet Profiles { get; } = profiles;

        public string ProfilesPath { get; } = profilesPath;

        public required Sessions.SessionLease Sessions { get; init; }

        public async ValueTask DisposeAsync()
        {
            await Sessions.DisposeAsync(); // sessions first: their cells are runs the coordinator then drains
            await coordinator.DisposeAsync();
            await watching.CancelAsync();
            await watcher;
            watching.Dispose();
            await host.DisposeAsync();
            await guard.DisposeAsync();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "MCP server on stdio with the local backends: {Count} profiles from {ProfilesPath}")]
        public static partial void Local(ILogger logger, string profilesPath, int count);

        [LoggerMessage(2, LogLevel.Information, "MCP server on stdio against the Sandbox service at {Url}")]
        public static partial void Remote(ILogger logger, Uri url);

        [LoggerMessage(3, LogLevel.Information, "Local runs act as agent {Agent}")]
        public static partial void Agent(ILogger logger, string agent);
    }
}
