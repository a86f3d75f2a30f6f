using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sandbox.Guard.Store;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Hosting;

/// <summary>
/// This node's lease on a store nodes share (see <see cref="INodeLeases"/>): renewed every second, taken again (new fence)
/// when it was lost, and, each round, any other node whose lease expired is taken over; beside it, DELETEs another node
/// took for this node's runs are acted on. Registered only for such a store,
/// and before <see cref="SandboxService"/>, so it stops after the drain and the lease covers the runs finishing in their
/// grace period; then released, and a node stopped cleanly is not mistaken for a dead one.
/// </summary>
internal sealed partial class NodeLeaseService(GuardHost guard, RunLifecycle lifecycle, ServerOptions options, TimeProvider time, ILogger<NodeLeaseService> logger) : BackgroundService
{
    /// <summary>How often the lease is renewed and other nodes' leases looked at.</summary>
    private static readonly TimeSpan s_tick = TimeSpan.FromSeconds(1);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(RenewAsync(stoppingToken), WatchCancelRequestsAsync(stoppingToken), ClaimAsync(stoppingToken));

    /// <summary>
    /// DELETEs that reached another node for runs this node holds, acted on every <c>Sandbox:Guard:WatchInterval</c>
    /// (200 ms by default): a run is cancelled from whichever node the client reaches.
    /// </summary>
    private async Task WatchCancelRequestsAsync(CancellationToken stoppingToken)
    {
        var leases = (INodeLeases)guard.Store;
        using var timer = new PeriodicTimer(guard.Guard.Options.WatchInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await lifecycle.ActOnCancelRequestsAsync(leases, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // Tried again next tick; a failed read must not end the watch.
                    Log.CancelWatchFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: the normal end.
        }
    }

    private async Task RenewAsync(CancellationToken stoppingToken)
    {
        var leases = (INodeLeases)guard.Store;
        var duration = options.Store.NodeLease;
        using var timer = new PeriodicTimer(s_tick, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    if (!await leases.RenewLeaseAsync(duration, stoppingToken))
                    {
                        // Lost (this process paused past its lease, or the database was out of reach): whatever was taken over is
                        // no longer ours and its late ends are refused; a new lease takes back what is still ours.
                        if (await leases.AcquireLeaseAsync(guard.Guard.NodeId, guard.Serves ?? NodeServes.Nothing, duration, stoppingToken) is not { } lease)
                        {
                            // Another live process holds this node id: nothing is written under it from here; tried again next round.
                            Log.NodeIdHeld(logger, guard.Guard.NodeId);
                            continue;
                        }

                        Log.LeaseRetaken(logger, lease.NodeId, lease.Fence);
                        await lifecycle.StopTakenOverAsync(lease.NodeId, stoppingToken);
                    }

                    foreach (var dead in await leases.ExpiredLeasesAsync(stoppingToken))
                    {
                        await lifecycle.TakeOverAsync(leases, dead, stoppingToken);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // A round that failed (the database busy or away) is tried again next second; the lease may run out meanwhile.
                    Log.RoundFailed(logger, ex);
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
        try
        {
            await ((INodeLeases)guard.Store).ReleaseLeaseAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Not released: it expires by itself, and a survivor finds nothing of ours open (the drain recorded every run).
            Log.RoundFailed(logger, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "This node's lease was lost (it was silent past its lease, or taken over); took a new one: {NodeId} fence {Fence}")]
        public static partial void LeaseRetaken(ILogger logger, string nodeId, long fence);

        [LoggerMessage(2, LogLevel.Error, "Renewing this node's lease, or taking over a dead node, failed; trying again in a second")]
        public static partial void RoundFailed(ILogger logger, Exception exception);

        [LoggerMessage(4, LogLevel.Critical, "Node id {NodeId} is held by another live node: this node cannot take a lease; give each node its own Sandbox:Guard:NodeId")]
        public static partial void NodeIdHeld(ILogger logger, string nodeId);

        [LoggerMessage(3, LogLevel.Error, "Reading the cancellations other nodes asked of this node's runs failed; retrying")]
        public static partial void CancelWatchFailed(ILogger logger, Exception exception);
    }
}
