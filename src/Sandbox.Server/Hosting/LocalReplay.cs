using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Server.Metrics;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Hosting;

/// <summary>
/// <c>sandbox runs replay</c>'s way into the service's own lifecycle, composed over a data folder without serving: the
/// one entry the CLI needs, so the lifecycle and the composition root stay internal to the service.
/// </summary>
public static class LocalReplay
{
    /// <summary>Replays <paramref name="runId"/> kept in <paramref name="directory"/>'s store, as <paramref name="actor"/>.</summary>
    /// <exception cref="Core.Profiles.ProfileConfigurationException">The profiles file is unusable.</exception>
    /// <exception cref="ServerConfigurationException">The service's settings are unusable.</exception>
    public static async Task<(ReplayView? View, ApiProblem? Problem)> ReplayAsync(string directory, string? profilesPath, string runId, string actor, CancellationToken cancellationToken)
    {
        var loggers = NullLoggerFactory.Instance;
        var time = TimeProvider.System;
        var options = new ServerOptions { DataDirectory = directory, Profiles = profilesPath };
        // Its own node id: start-up reconciliation closes only runs this node left open, never a running service's.
        var guardOptions = GuardHost.LoadOptions(new ConfigurationBuilder().AddEnvironmentVariables().Build(), $"cli:replay@{Environment.MachineName}");
        var (profiles, path) = SandboxComposition.LoadProfiles(options);
        await using var guard = await GuardHost.OpenAsync(options, guardOptions, loggers, time, cancellationToken);
        await using var host = SandboxHost.Create(profiles, path, time, loggers);
        await using var lifecycle = SandboxComposition.CreateLifecycle(host.Pipeline, guard, options, new SandboxMetrics(), time, loggers);
        return await lifecycle.ReplayAsync(runId, actor, cancellationToken);
    }
}
