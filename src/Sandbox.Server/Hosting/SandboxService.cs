using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Hosting;

/// <summary>
/// The service's life: at start, ping Docker (so languages fall back to WebAssembly when it is down) and
/// sweep leftovers of an earlier crash; while up, reap periodically; at stop, drain runs gracefully.
/// </summary>
internal sealed partial class SandboxService : IHostedService
{
    private static readonly TimeSpan ReapEvery = TimeSpan.FromMinutes(1);
    private readonly SandboxHost _host;
    private readonly RunCoordinator _coordinator;
    private readonly ILogger _logger;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly Guard.GuardOptions _guardOptions;
    private readonly TimeProvider _time;
    private Task _reaping = Task.CompletedTask;
    private Task _watching = Task.CompletedTask;
    private int _stopped;

    public SandboxService(SandboxHost host, RunCoordinator coordinator, Guard.GuardOptions guardOptions, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<SandboxService> logger)
    {
        _guardOptions = guardOptions;
        _time = time;
        _lifetime = lifetime;
        _host = host;
        _coordinator = coordinator;
        _logger = logger;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await _host.CheckDockerAsync(cancellationToken))
        {
            // The host's own stopping token ends the loop, so this service owns nothing that needs disposing mid-shutdown.
            _reaping = _host.Reaper.RunAsync(ReapEvery, _lifetime.ApplicationStopping);
        }
        else
        {
            Log.DockerDown(_logger);
        }

        _watching = GuardWatcher.RunAsync(_coordinator, _guardOptions.WatchInterval, _time, _logger, _lifetime.ApplicationStopping);
        Log.Started(_logger, _host.ProfilesPath, _host.Profiles.All.Count);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // The host may stop us more than once (a test factory's dispose after an explicit stop); drain once.
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        await _coordinator.ShutdownAsync(cancellationToken);
        await _watching;
        try
        {
            await _reaping;
        }
        catch (OperationCanceledException)
        {
            // The reaper stops by cancellation; that is the expected end.
        }
    }


    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Docker does not answer: languages with a -wasm profile fall back to WebAssembly; others report sandbox_error")]
        public static partial void DockerDown(ILogger logger);

        [LoggerMessage(2, LogLevel.Information, "Sandbox service started with {Count} profiles from {ProfilesPath}")]
        public static partial void Started(ILogger logger, string profilesPath, int count);
    }
}
