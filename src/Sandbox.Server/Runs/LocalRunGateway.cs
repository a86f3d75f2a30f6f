using Sandbox.Core.Runs;
using Sandbox.Guard.Policy;
using Sandbox.Server.Http;

namespace Sandbox.Server.Runs;

/// <summary>
/// The gateway over this process's own coordinator and backends (the MCP server with local backends). It
/// acts as one configured agent, through the same guard as HTTP: allow-list, caps, approvals and audit.
/// </summary>
internal sealed class LocalRunGateway : IRunGateway
{
    private readonly RunCoordinator _coordinator;
    private Principal _principal;

    public LocalRunGateway(RunCoordinator coordinator, Principal principal)
    {
        _coordinator = coordinator;
        _principal = principal;
    }

    public async Task<GatewayResult> RunAsync(RunRequest request, CancellationToken cancellationToken)
    {
        // Re-read on every call: a revocation made with the CLI while this server runs takes effect on the next call.
        if (await _coordinator.Guard.RefreshAsync(_principal, cancellationToken) is not { } current)
        {
            return GatewayResult.Of(Problems.Unauthorized("agent_revoked", $"agent '{_principal.Agent.Name}' was revoked or has expired; an operator must issue a new agent"));
        }

        _principal = current;
        var outcome = await _coordinator.SubmitAsync(current, request, rawOutput: false, cancellationToken: cancellationToken);
        if (outcome.Entry is not { } entry)
        {
            return GatewayResult.Of(outcome.Problem!);
        }

        // A run waiting for a human comes back at once; the tool tells the model to poll get_run.
        if (entry.State != RunState.PendingApproval)
        {
            await entry.Completed.WaitAsync(cancellationToken);
        }

        return GatewayResult.Of(RunCoordinator.View(entry));
    }

    public async Task<GatewayResult> GetRunAsync(string id, CancellationToken cancellationToken) =>
        await _coordinator.FindViewAsync(id, _principal, cancellationToken) is { } view ? GatewayResult.Of(view) : GatewayResult.Of(ApiProblem.NotFound(id));

    public Task<IReadOnlyList<LanguageView>> ListLanguagesAsync(CancellationToken cancellationToken) =>
        Task.FromResult(Catalog.Languages(_coordinator.Pipeline.Profiles, _coordinator.Pipeline.UnavailableBackends));
}
