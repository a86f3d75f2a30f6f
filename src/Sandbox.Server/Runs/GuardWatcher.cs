using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Sandbox.Guard.Store;

namespace Sandbox.Server.Runs;

/// <summary>
/// Follows decisions made outside this process (an operator's CLI, another node): revoked agents lose their runs,
/// approved runs are queued, denied and expired ones are rejected. It polls the store (every 200 ms by default, because
/// revocation must bite within a second) and, on a store that announces decisions (<see cref="IGuardChangeFeed"/>:
/// PostgreSQL's <c>NOTIFY guard_changed</c>), also checks at once on each announcement. The poll stays either way:
/// notifications are not durable, and a listener that lost its connection misses them.
/// </summary>
internal static partial class GuardWatcher
{
    /// <summary>How long the listener waits before listening again after its connection failed (the poll goes on meanwhile).</summary>
    private static readonly TimeSpan RelistenDelay = TimeSpan.FromSeconds(1);

    public static async Task RunAsync(RunLifecycle coordinator, TimeSpan interval, TimeProvider time, ILogger logger, CancellationToken cancellationToken, IGuardChangeFeed? changes = null)
    {
        // One pending check at most: announcements and ticks that come while a check runs fold into the next one.
        var wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
        var ticking = TickAsync(wake.Writer, interval, time, cancellationToken);
        var listening = changes is null ? Task.CompletedTask : ListenAsync(changes, wake.Writer, time, logger, cancellationToken);
        try
        {
            while (await wake.Reader.WaitToReadAsync(cancellationToken))
            {
                wake.Reader.TryRead(out _);
                try
                {
                    await coordinator.WatchAsync(cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A failed check (the store busy or broken) is retried next tick; it must not end the watch.
                    Log.WatchFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: the normal end.
        }

        await Task.WhenAll(ticking, listening);
    }

    private static async Task TickAsync(ChannelWriter<bool> wake, TimeSpan interval, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                wake.TryWrite(true);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private static async Task ListenAsync(IGuardChangeFeed changes, ChannelWriter<bool> wake, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                // Once listening, one check catches up on whatever was committed while not listening.
                await changes.ListenAsync(change =>
                {
                    Log.Changed(logger, change);
                    wake.TryWrite(true);
                }, () => wake.TryWrite(true), cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.ListenFailed(logger, ex);
            }

            try
            {
                await Task.Delay(RelistenDelay, time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Checking the store for revocations and approvals failed; retrying")]
        public static partial void WatchFailed(ILogger logger, Exception exception);

        [LoggerMessage(2, LogLevel.Warning, "Listening for guard changes on the store failed; polling goes on, listening again in 1 s")]
        public static partial void ListenFailed(ILogger logger, Exception exception);

        [LoggerMessage(3, LogLevel.Debug, "Guard change announced by the store: {Change}; checking now")]
        public static partial void Changed(ILogger logger, string change);
    }
}
