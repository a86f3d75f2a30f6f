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
/// anything is admitted so a new run is never mistaken for an orphan.
/// </summary>
internal sealed class GuardHost : IAsyncDisposable
{
    private GuardHost(IGuardStore store, RunGuard guard, IAlertSink alerts)
    {
        Store = store;
        Guard = guard;
        Alerts = alerts;
    }

    public IGuardStore Store { get; }

    public RunGuard Guard { get; }

    public IAlertSink Alerts { get; }

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

    public static async Task<GuardHost> OpenAsync(ServerOptions server, GuardOptions options, ILoggerFactory loggers, TimeProvider time, CancellationToken cancellationToken)
    {
        var store = await SqliteGuardStore.OpenAsync(GuardPaths.Database(server.DataDirectory), time, cancellationToken);
        IAlertSink alerts = options.Alerts.WebhookUrl is { } url
            // The webhook is the operator's own endpoint; its client has a short timeout so a dead receiver costs nothing.
            ? new WebhookAlertSink(new Uri(url), new HttpClient { Timeout = TimeSpan.FromSeconds(10) }, loggers.CreateLogger<WebhookAlertSink>(), time)
            : new NullAlertSink();
        var guard = new RunGuard(store, options, alerts, time, loggers.CreateLogger<RunGuard>());
        var host = new GuardHost(store, guard, alerts);
        try
        {
            await guard.ReconcileAsync(cancellationToken);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Alerts is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }

        await Store.DisposeAsync();
    }
}
