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

    /// <summary>How often a Docker found down is pinged again, so it is used again within about this long of answering.</summary>
    private static readonly TimeSpan DockerRecheckEvery = TimeSpan.FromSeconds(1);
    private readonly SandboxHost _host;
    private readonly RunLifecycle _coordinator;
    private readonly ILogger _logger;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly Guard.GuardOptions _guardOptions;
    private readonly TimeProvider _time;
    private Task _reaping = Task.CompletedTask;
    private Task _watching = Task.CompletedTask;
    private readonly Lock _drainLock = new();
    private Task? _draining;
    private readonly Docker.Pooling.WarmPoolOptions _warmPoolOptions;
    private readonly Metrics.SandboxMetrics _metrics;

    private readonly GuardHost _guard;
    private readonly ServerOptions _options;

    public SandboxService(SandboxHost host, RunLifecycle coordinator, GuardHost guard, ServerOptions options, Guard.GuardOptions guardOptions, TimeProvider time, IHostApplicationLifetime lifetime,
        ILogger<SandboxService> logger, Docker.Pooling.WarmPoolOptions warmPool, Metrics.SandboxMetrics metrics)
    {
        _guard = guard;
        _options = options;
        _warmPoolOptions = warmPool;
        _metrics = metrics;
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
            await StartWarmPoolAsync(cancellationToken);
        }
        else
        {
            Log.DockerDown(_logger);
            _reaping = RecoverDockerAsync(_lifetime.ApplicationStopping);
        }

        _watching = GuardWatcher.RunAsync(_coordinator, _guardOptions.WatchInterval, _time, _logger, _lifetime.ApplicationStopping, _guard.Store as Guard.Store.IGuardChangeFeed);

        // The drain starts the moment the host is told to stop (SIGTERM), not when its turn comes among the hosted
        // services: otherwise the web server first waits for open synchronous POSTs, and queued runs keep starting.
        _lifetime.ApplicationStopping.Register(() => _ = DrainOnce());
        Log.Started(_logger, _host.ProfilesPath, _host.Profiles.All.Count);
    }

    // The host may stop us more than once (a test factory's dispose after an explicit stop), and ApplicationStopping
    // starts the drain before StopAsync: every caller awaits the one drain.
    public Task StopAsync(CancellationToken cancellationToken) => DrainOnce();

    private Task DrainOnce()
    {
        lock (_drainLock)
        {
            return _draining ??= DrainAsync();
        }
    }

    private async Task DrainAsync()
    {
        // Bounded by itself (the grace period, then kills confirmed within 30 s), so it takes no token. Runs start-up
        // recovery still follows get the same grace period, side by side, then are killed and recorded. The pool stops at
        // once beside them: no new container is made, idle ones are removed; claimed ones end with their runs.
        var followed = _guard.Recovery?.ShutdownAsync(_options.ShutdownGracePeriod) ?? Task.CompletedTask;
        await Task.WhenAll(_coordinator.ShutdownAsync(CancellationToken.None), _host.StopWarmPoolAsync());
        await followed;
        // Runs that ended by themselves return before their containers are removed; those removals end here.
        await _host.WhenContainersRemovedAsync();
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

    /// <summary>
    /// Pings a Docker that was down at start-up until it answers, then puts it back in use (runs stop falling back to
    /// WebAssembly) and starts the reaper: a daemon started after the service needs no restart of the service.
    /// </summary>
    private async Task RecoverDockerAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            await Task.Delay(DockerRecheckEvery, _time, stopping);
            if (await _host.CheckDockerAsync(stopping))
            {
                Log.DockerBack(_logger);
                await StartWarmPoolAsync(stopping);
                await _host.Reaper.RunAsync(ReapEvery, stopping);
                return;
            }
        }
    }

    /// <summary>Starts the warm pool (its refill runs in the background) and shows it in <c>/metrics</c>; a failure leaves runs cold.</summary>
    private async Task StartWarmPoolAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (await _host.StartWarmPoolAsync(_warmPoolOptions, _logger, cancellationToken) is { } pool)
            {
                _metrics.ObserveWarmPool(pool);
            }
        }
        catch (Core.Errors.SandboxException ex)
        {
            Log.PoolFailed(_logger, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4, LogLevel.Warning, "The warm pool could not start; runs start cold")]
        public static partial void PoolFailed(ILogger logger, Exception exception);

        [LoggerMessage(3, LogLevel.Information, "Docker answers again: runs use it again and the reaper is running")]
        public static partial void DockerBack(ILogger logger);

        [LoggerMessage(1, LogLevel.Warning, "Docker does not answer: languages with a -wasm profile fall back to WebAssembly; others report sandbox_error")]
        public static partial void DockerDown(ILogger logger);

        [LoggerMessage(2, LogLevel.Information, "Sandbox service started with {Count} profiles from {ProfilesPath}")]
        public static partial void Started(ILogger logger, string profilesPath, int count);
    }
}
