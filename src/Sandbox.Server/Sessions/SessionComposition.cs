using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sandbox.Docker.Sessions;
using Sandbox.Server.Hosting;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Sessions;

/// <summary>Adds sessions to the service: their settings (validated now), the registry over the Docker backend, and the sweeper.</summary>
internal static class SessionComposition
{
    public static void AddSessions(IServiceCollection services, IConfiguration configuration)
    {
        var section = $"{ServerOptions.Section}:{SessionOptions.Section}";
        var options = configuration.GetSection(section).Get<SessionOptions>() ?? new SessionOptions();
        if (options.Validate(section) is { Count: > 0 } errors)
        {
            // Fail closed at start-up: a typo in a cap must not run with no cap.
            throw new ServerConfigurationException(errors);
        }

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
