using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Runs;
using Sandbox.Docker.Sessions;
using Sandbox.Server.Hosting;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Sessions;

/// <summary>Adds sessions to the service: their settings (validated now), the registry over the Docker backend, and the sweeper.</summary>
internal static class SessionComposition
{
    /// <summary>The service-wide cap on an agent's open sessions, replaced by <see cref="Guard.Agents.Agent.MaxOpenSessions"/>.</summary>
    internal const string RetiredMaxOpenPerAgent = "MaxOpenPerAgent";

    /// <summary>The <c>Sandbox:Sessions</c> settings, validated: every error names its key.</summary>
    public static SessionOptions LoadOptions(IConfiguration configuration)
    {
        var section = $"{ServerOptions.Section}:{SessionOptions.Section}";
        var options = configuration.GetSection(section).Get<SessionOptions>() ?? new SessionOptions();
        var errors = options.Validate(section).ToList();
        if (configuration.GetSection(section)[RetiredMaxOpenPerAgent] is not null)
        {
            // Fail closed: the binder ignores unknown keys, so an operator's old cap would look obeyed while each agent got its own.
            errors.Add(new FieldError($"{section}:{RetiredMaxOpenPerAgent}",
                "is no longer a service setting; the cap on open sessions is each agent's maxOpenSessions budget (sandbox agents create --max-open-sessions, 4 when not named): remove this key"));
        }

        if (errors.Count > 0)
        {
            // Fail closed at start-up: a typo in a cap must not run with no cap.
            throw new ServerConfigurationException(errors);
        }

        return options;
    }

    /// <summary>
    /// Sessions for <c>sandbox mcp</c> with local backends: the registry over this process's lifecycle, swept in the
    /// background; disposing it closes every session (the server is stopping) and ends the sweep.
    /// </summary>
    public static SessionLease ForMcp(IConfiguration configuration, RunLifecycle lifecycle, SandboxHost host, GuardHost guard, LocalRunGateway runs, TimeProvider time, ILoggerFactory loggers)
    {
        var options = LoadOptions(configuration);
        var registry = new SessionRegistry(lifecycle, new DockerSessions(host.Docker, host.Meter, time, loggers.CreateLogger<DockerSession>()), options, guard.Store, time, loggers.CreateLogger<SessionRegistry>());
        var service = new SessionService(registry, options, time, loggers.CreateLogger<SessionService>());
        _ = service.StartAsync(CancellationToken.None);
        return new SessionLease(new LocalSessionGateway(registry, options, runs), service);
    }

    public static void AddSessions(IServiceCollection services, IConfiguration configuration)
    {
        var options = LoadOptions(configuration);
        services.AddSingleton(options);
        services.AddSingleton(sp =>
        {
            var host = sp.GetRequiredService<SandboxHost>();
            var time = sp.GetRequiredService<TimeProvider>();
            var loggers = sp.GetRequiredService<ILoggerFactory>();
            return new SessionRegistry(sp.GetRequiredService<RunLifecycle>(), new DockerSessions(host.Docker, host.Meter, time, loggers.CreateLogger<DockerSession>()),
                options, sp.GetRequiredService<GuardHost>().Store, time, loggers.CreateLogger<SessionRegistry>());
        });
        services.AddHostedService<SessionService>();
    }
}

/// <summary>Sessions served by <c>sandbox mcp</c>, and their sweeper, stopped (every session closed) on dispose.</summary>
internal sealed class SessionLease(ISessionGateway gateway, SessionService service) : IAsyncDisposable
{
    public ISessionGateway Gateway { get; } = gateway;

    public async ValueTask DisposeAsync()
    {
        await service.StopAsync(CancellationToken.None);
        service.Dispose();
    }
}
