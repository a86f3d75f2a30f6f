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
    /// <summary>The reason a run records when the client cancels the call that waits for it.</summary>
    public const string CancelledByClient = "cancelled by the client (the tool call was cancelled)";

    private readonly RunLifecycle _coordinator;
    private Principal _principal;

    public LocalRunGateway(RunLifecycle coordinator, Principal principal)
    {
        _coordinator = coordinator;
        _principal = principal;
    }

    public async Task<GatewayResult> RunAsync(RunRequest request, CancellationToken cancellationToken)
    {
        // Re-read on every call: a revocation made with the CLI while this server runs takes effect on the next call.
        if (await _coordinator.Guard.Keys.RefreshAsync(_principal, cancellationToken) is not { } current)
        {
            return GatewayResult.Of(Problems.Unauthorized("agent_revoked", $"agent '{_principal.Agent.Name}' was revoked or has expired; an operator must issue a new agent"));
        }

        _principal = current;
        var outcome = await _coordinator.SubmitAsync(current, request, rawOutput: false, cancellationToken: cancellationToken);
        if (outcome.Offered is { } offered)
        {
            // Run by another node (a store nodes share, no free slot here): its stored end, as a GET would read it.
            return await _coordinator.AwaitOfferedAsync(offered, current, CancelledByClient, cancellationToken) is { } view
                ? GatewayResult.Of(view)
                : throw new OperationCanceledException(cancellationToken);
        }

        if (outcome.Entry is not { } entry)
        {
            return GatewayResult.Of(outcome.Problem!);
        }

        // A run waiting for a human comes back at once; the tool tells the model to poll get_run.
        if (entry.State != RunState.PendingApproval)
        {
            try
            {
                await entry.Completed.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The client gave up on the call (MCP notifications/cancelled): nobody will read this run's result,
                // so it must not go on holding the agent's concurrency slot. Not waiting for the kill here: the
                // caller has already left; the run records `cancelled` once its container or engine is gone.
                await _coordinator.CancelAsync(entry.Id, current, CancelledByClient, TimeSpan.Zero);
                throw;
            }
        }

        return GatewayResult.Of(RunLifecycle.View(entry));
    }

    /// <summary>The gateway's agent re-read from the store (as every call does); null once it is revoked or expired.</summary>
    internal async Task<Principal?> RefreshPrincipalAsync(CancellationToken cancellationToken) =>
        await _coordinator.Guard.Keys.RefreshAsync(_principal, cancellationToken) is { } current ? _principal = current : null;

    public async Task<GatewayResult> GetRunAsync(string id, CancellationToken cancellationToken) =>
        await _coordinator.FindViewAsync(id, _principal, cancellationToken) is { } view ? GatewayResult.Of(view) : GatewayResult.Of(ApiProblem.NotFound(id));

    public async Task<ReadOnlyMemory<byte>?> GetArtifactAsync(string runId, string path, CancellationToken cancellationToken) =>
        await _coordinator.FindArtifactAsync(runId, path, _principal, cancellationToken) is { Artifact: { } artifact } ? artifact.Content : null;

    /// <summary>The languages this agent may run (its allow-list as of the last call), not every language the host has.</summary>
    public Task<IReadOnlyList<LanguageView>> ListLanguagesAsync(CancellationToken cancellationToken)
    {
        var profiles = _coordinator.Pipeline.Profiles;
        var principal = _principal;
        return Task.FromResult(AllowedLanguages.For(
            Catalog.Languages(profiles, _coordinator.Pipeline.UnavailableBackends),
            principal.Allows,
            name => profiles.TryGet(name, out var p) ? new ProfileSummary(p.Name, p.Backend, p.Description, p.Limits) : null));
    }
}
