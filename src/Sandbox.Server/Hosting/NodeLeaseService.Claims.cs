using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Sandbox.Guard.Store;

namespace Sandbox.Server.Hosting;

/// <summary>
/// Claiming offered runs (issue 15, point 2; see <see cref="IRunClaims"/>): this node claims whenever it may have a free
/// slot and there may be work: on each <c>NOTIFY runs_queued</c>, when one of its runs leaves its slot, and every second
/// (the fallback: notifications are not durable, and a listener that lost its connection misses them).
/// </summary>
internal sealed partial class NodeLeaseService
{
    /// <summary>The poll that covers lost announcements.</summary>
    private static readonly TimeSpan s_claimPoll = TimeSpan.FromSeconds(1);

    private async Task ClaimAsync(CancellationToken stoppingToken)
    {
        if (guard.Store is not IRunClaims claims)
        {
            return;
        }

        // One pending round at most: announcements, freed slots and ticks that come while a round runs fold into the next one.
        var wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
        void Wake() => wake.Writer.TryWrite(true);
        lifecycle.SlotFreed += Wake;
        var ticking = TickAsync(Wake, stoppingToken);
        var listening = ListenQueuedAsync(claims, Wake, stoppingToken);
        try
        {
            while (await wake.Reader.WaitToReadAsync(stoppingToken))
            {
                wake.Reader.TryRead(out _);
                try
                {
                    // A full batch may have left more behind: look again at once rather than at the next tick.
                    var free = lifecycle.FreeSlots;
                    if (free > 0 && await lifecycle.ClaimAsync(claims, stoppingToken) == free)
                    {
                        Wake();
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // Tried again on the next wake; a failed claim changed nothing (its transaction rolled back).
                    Log.ClaimFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: the normal end.
        }
        finally
        {
            lifecycle.SlotFreed -= Wake;
        }

        await Task.WhenAll(ticking, listening);
    }

    private async Task TickAsync(Action wake, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(s_claimPoll, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                wake();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private async Task ListenQueuedAsync(IRunClaims claims, Action wake, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Once listening, one round catches up on whatever was offered while not listening.
                await claims.ListenQueuedAsync(wake, wake, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.ListenQueuedFailed(logger, ex);
            }

            try
            {
                await Task.Delay(s_claimPoll, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Error, "Claiming offered runs failed; trying again on the next announcement or within a second")]
        public static partial void ClaimFailed(ILogger logger, Exception exception);

        [LoggerMessage(11, LogLevel.Warning, "Listening for offered runs on the store failed; polling every second goes on, listening again in 1 s")]
        public static partial void ListenQueuedFailed(ILogger logger, Exception exception);
    }
}
