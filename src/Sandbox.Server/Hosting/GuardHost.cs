using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Sandbox.Guard;
using Sandbox.Guard.Alerts;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;

namespace Sandbox.Server.Hosting;

/// <summary>
/// Opens the guard for a front end: its settings (<c>Sandbox:Guard</c>), the store under the data folder,
/// the alert sink, and the reconciliation of runs an earlier crash left without a result, done before
/// anything is admitted so a new run is never mistaken for an orphan; runs that outlived the crash and still run are
/// followed in the background by <see cref="Recovery"/> instead.
/// </summary>
internal sealed partial class GuardHost : IAsyncDisposable
{
    private readonly ILogger _logger;

    private GuardHost(IGuardStore store, RunGuard guard, IAlertSink alerts, ILogger logger)
    {
        Store = store;
        Guard = guard;
        Alerts = alerts;
        _logger = logger;
    }

    /// <summary>Start-up recovery, still following the runs it found running (see <see cref="Runs.RunRecovery"/>).</summary>
    public Runs.RunRecovery? Recovery { get; private set; }

    public IGuardStore Store { get; }

    public RunGuard Guard { get; }

    public IAlertSink Alerts { get; }

    /// <summary>What this node runs, as recorded with its lease on a shared store; null for front ends that hold no lease.</summary>
    public NodeServes? Serves { get; private set; }

    /// <summary>The guard's settings, validated; every error names its key.</summary>
    /// <exception cref="ServerConfigurationException">A setting is unusable.</exception>
    public static GuardOptions LoadOptions(IConfiguration configuration, string defaultNodeId)
    {
        var options = configuration.GetSection(GuardOptions.Section).Get<GuardOptions>() ?? new GuardOptions();
        if (options.Validate() is { Count: > 0 } errors)
        {
            throw new ServerConfigurationException(errors);
        }

        options.NodeId ??= defaultNodeId;
        return options;
    }

    /// <param name="server">The service's settings.</param>
    /// <param name="options">The guard's settings.</param>
    /// <param name="loggers">Where the guard logs.</param>
    /// <param name="time">The clock.</param>
    /// <param name="cancellationToken">Cancels the opening.</param>
    /// <param name="serves">
    /// For <c>sandbox serve</c> on a store nodes share (<see cref="INodeLeases"/>): what this node runs. Its lease is taken
    /// before recovery, so the rows it owns from an earlier life are its own again under the new fence, and recorded.
    /// </param>
    public static async Task<GuardHost> OpenAsync(ServerOptions server, GuardOptions options, ILoggerFactory loggers, TimeProvider time, CancellationToken cancellationToken, NodeServes? serves = null)
    {
        var store = await GuardStores.OpenAsync(server.Store, server.DataDirectory, time, cancellationToken);
        IAlertSink alerts = options.Alerts.WebhookUrl is { } url
            // The webhook is the operator's own endpoint; its client has a short timeout so a dead receiver costs nothing.
            ? new WebhookAlertSink(new Uri(url), new HttpClient { Timeout = TimeSpan.FromSeconds(10) }, loggers.CreateLogger<WebhookAlertSink>(), time)
            : new NullAlertSink();
        var guard = new RunGuard(store, options, alerts, time, loggers.CreateLogger<RunGuard>());
        var host = new GuardHost(store, guard, alerts, loggers.CreateLogger<GuardHost>());
        try
        {
            if (serves is not null && store is INodeLeases leases)
            {
                host.Serves = serves;
                var lease = await AcquireLeaseAsync(leases, guard.NodeId, serves, server.Store.NodeLease, time, host._logger, cancellationToken);
                Log.LeaseTaken(host._logger, lease.NodeId, lease.Fence);
            }

            // Runs whose containers tell their real end: the exited ones recorded now, the running ones followed in the
            // background (the service listens without waiting for them), so reconciliation leaves those alone.
            host.Recovery = await Runs.RunRecovery.StartAsync(store, guard, server, loggers, time, cancellationToken);
            await guard.ReconcileAsync(host.Recovery.IsFollowing, cancellationToken);
            await host.LogHeadAsync("start", cancellationToken);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// This node's lease, waiting out the lease of an earlier process under the same id (a restart after kill -9 waits at
    /// most one lease). Fails closed when the id stays held past that: another live node uses it, and two live nodes under
    /// one id would fence each other's runs out.
    /// </summary>
    private static async Task<NodeLease> AcquireLeaseAsync(INodeLeases leases, string nodeId, NodeServes serves, TimeSpan duration, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            if (await leases.AcquireLeaseAsync(nodeId, serves, duration, cancellationToken) is { } lease)
            {
                return lease;
            }

            if (time.GetElapsedTime(started) > duration + duration)
            {
                throw new ServerConfigurationException([new Core.Runs.FieldError($"{GuardOptions.Section}:{nameof(GuardOptions.NodeId)}",
                    $"is '{nodeId}', which another live node on the same store holds; give each node its own id (such as node-a, node-b)")]);
            }

            Log.WaitingForLease(logger, nodeId);
            await Task.Delay(TimeSpan.FromMilliseconds(500), time, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Recovery is { } recovery)
        {
            // Followed runs are killed and recorded (the drain gave them the grace period) before the store closes.
            await recovery.DisposeAsync();
        }

        try
        {
            await Guard.Keys.FlushAuthFailuresAsync(CancellationToken.None, force: true);
            await Guard.Refusals.FlushAsync(CancellationToken.None, force: true);
            await LogHeadAsync("stop", CancellationToken.None);
        }
        catch (Exception ex)
        {
            // The store is going away anyway; a missing count or anchor line must not stop the shutdown.
            Log.HeadUnavailable(_logger, ex);
        }

        if (Alerts is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }

        await Store.DisposeAsync();
    }

    /// <summary>
    /// Writes the audit log's head to the service log. The log usually leaves the host (journald, a collector),
    /// which makes each line an anchor the file's holder cannot reach: `sandbox audit verify --anchor SEQ:HASH`
    /// then detects records cut off the end, or a log rewritten, which the chain alone cannot.
    /// </summary>
    private async Task LogHeadAsync(string when, CancellationToken cancellationToken) =>
        Log.Head(_logger, when, (await Store.AuditHeadAsync(cancellationToken)).ToString());

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Audit log head at {When}: {Anchor} (an anchor: `sandbox audit verify --anchor` with it later detects records cut off the end)")]
        public static partial void Head(ILogger logger, string when, string anchor);

        [LoggerMessage(2, LogLevel.Warning, "Could not write the suppressed failed-authentication count, or read the audit log's head, at stop")]
        public static partial void HeadUnavailable(ILogger logger, Exception exception);

        [LoggerMessage(4, LogLevel.Information, "Node id {NodeId} is still held by a lease on the shared store (an earlier process of this node, or another node); waiting for it to run out")]
        public static partial void WaitingForLease(ILogger logger, string nodeId);

        [LoggerMessage(3, LogLevel.Information, "Node {NodeId} holds its lease on the shared store with fence {Fence}")]
        public static partial void LeaseTaken(ILogger logger, string nodeId, long fence);
    }
}
