using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Execution;
using Sandbox.Core.Profiles;
using Sandbox.Guard.Store;
using Sandbox.Server.Metrics;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Hosting;

/// <summary>
/// The one composition root of the run path, for <c>sandbox serve</c> (<see cref="SandboxServer.Build"/>) and
/// <c>sandbox mcp</c> with local backends (<c>McpHost</c>): the settings read and validated once, the profiles loaded, and
/// the <see cref="RunLifecycle"/> assembled over its two seams, the backend pipeline the lifecycle runs plans through (a
/// <see cref="RunPipeline"/> over any <see cref="IExecutionBackend"/>s) and the <see cref="TimeProvider"/>. The lifecycle's
/// unit tests assemble the same object over a fake backend and a fake clock.
/// </summary>
internal static class SandboxComposition
{
    /// <summary>
    /// The service's settings from configuration, validated (every error at once, each naming its key) with the data
    /// folder resolved. Fails closed: a service with half-understood limits must not take runs.
    /// </summary>
    /// <exception cref="ServerConfigurationException">A setting is invalid.</exception>
    public static ServerOptions LoadOptions(IConfiguration configuration)
    {
        var options = configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
        if (options.Validate() is { Count: > 0 } errors)
        {
            throw new ServerConfigurationException(errors);
        }

        options.DataDirectory = GuardPaths.ResolveDataDirectory(configuration[$"{ServerOptions.Section}:{nameof(ServerOptions.DataDirectory)}"]);
        return options;
    }

    /// <summary>The profiles the options name (see <see cref="SandboxHost.ResolveProfilesPath"/>), loaded; a bad file throws with every error listed.</summary>
    public static (ProfileSet Profiles, string Path) LoadProfiles(ServerOptions options)
    {
        var path = SandboxHost.ResolveProfilesPath(options.Profiles);
        return (ProfileLoader.Load(path), path);
    }

    /// <summary>The run lifecycle over the guard (its policy parts and its store), a backend pipeline and a clock.</summary>
    public static RunLifecycle CreateLifecycle(RunPipeline backends, GuardHost guard, ServerOptions options, SandboxMetrics metrics, TimeProvider time, ILoggerFactory loggers) =>
        new(backends, guard.Guard, guard.Store, options, metrics, time, loggers.CreateLogger<RunLifecycle>()) { Recovery = guard.Recovery, DiskReserve = DataDiskReserve.For(options, time) };
}
