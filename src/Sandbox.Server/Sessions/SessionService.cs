using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sandbox.Server.Sessions;

/// <summary>Sweeps sessions (idle, lifetime, revocation) while the service runs, and closes them all when it stops.</summary>
internal sealed partial class SessionService(SessionRegistry registry, SessionOptions options, TimeProvider time, ILogger<SessionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.SweepInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await registry.SweepAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A failed sweep (the store busy) is retried next tick; it must not end the sweeping.
                    Log.SweepFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: the normal end.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // No session outlives its service: a kernel nobody can reach would only hold memory until the reaper came.
        await registry.CloseAllAsync("the service is shutting down");
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Sweeping sessions failed; retrying")]
        public static partial void SweepFailed(ILogger logger, Exception exception);
    }
}
