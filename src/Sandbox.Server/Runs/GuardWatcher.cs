using Microsoft.Extensions.Logging;

namespace Sandbox.Server.Runs;

/// <summary>
/// Polls the store for decisions made outside this process (an operator's CLI, another node): revoked
/// agents lose their runs, approved runs are queued, denied and expired ones are rejected. The interval
/// is short (200 ms by default) because revocation must bite within a second.
/// </summary>
internal static partial class GuardWatcher
{
    public static async Task RunAsync(RunLifecycle coordinator, TimeSpan interval, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await coordinator.WatchAsync(cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A failed poll (the store busy or broken) is retried next tick; it must not end the watch.
                    Log.WatchFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: the normal end.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Checking the store for revocations and approvals failed; retrying")]
        public static partial void WatchFailed(ILogger logger, Exception exception);
    }
}
