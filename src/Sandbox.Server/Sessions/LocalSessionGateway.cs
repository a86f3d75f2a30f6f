using Sandbox.Core.Runs;
using Sandbox.Server.Http;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Sessions;

/// <summary>Sessions in this process (<c>sandbox mcp</c> with local backends), acting as the gateway's agent.</summary>
internal sealed class LocalSessionGateway(SessionRegistry registry, SessionOptions options, LocalRunGateway runs) : ISessionGateway
{
    public async Task<SessionAnswer> OpenAsync(SessionRequestBody request, CancellationToken cancellationToken)
    {
        if (await runs.RefreshPrincipalAsync(cancellationToken) is not { } principal)
        {
            return new SessionAnswer(null, Revoked());
        }

        var (entry, problem) = await registry.OpenAsync(principal, request, cancellationToken);
        return new SessionAnswer(entry is null ? null : SessionRegistry.View(entry, options), problem);
    }

    public async Task<SessionAnswer> CloseAsync(string id, CancellationToken cancellationToken)
    {
        if (await runs.RefreshPrincipalAsync(cancellationToken) is not { } principal)
        {
            return new SessionAnswer(null, Revoked());
        }

        if (registry.Find(id, principal) is not { } entry)
        {
            return new SessionAnswer(null, SessionRegistry.NotFound(id));
        }

        await registry.CloseAsync(entry, SessionRegistry.ClosedByDelete, "closed by close_session");
        return new SessionAnswer(SessionRegistry.View(entry, options), null);
    }

    public async Task<GatewayResult> RunCellAsync(string id, RunRequest request, CancellationToken cancellationToken)
    {
        if (await runs.RefreshPrincipalAsync(cancellationToken) is not { } principal)
        {
            return GatewayResult.Of(Revoked());
        }

        if (registry.Find(id, principal) is not { } entry)
        {
            return GatewayResult.Of(SessionRegistry.NotFound(id));
        }

        if (SessionCells.Check(request, default, entry.Session.Plan) is { Count: > 0 } errors)
        {
            return GatewayResult.Of(ApiProblem.Invalid(errors));
        }

        var (run, ended, refused) = await registry.SubmitCellAsync(entry, principal, request, rawOutput: false, cancellationToken);
        if (run is null)
        {
            return GatewayResult.Of(refused!);
        }

        if (run.State != RunState.PendingApproval)
        {
            try
            {
                await ended.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // As run_code: a cancelled call does not leave its cell holding the agent's slot (the session restarts).
                await registry.Lifecycle.CancelAsync(run.Id, principal, LocalRunGateway.CancelledByClient, TimeSpan.Zero);
                throw;
            }
        }

        return GatewayResult.Of(SessionTools.WithNotes(RunLifecycle.View(run), SessionEndpoints.View(run, entry).Session));
    }

    private static ApiProblem Revoked() =>
        Problems.Unauthorized("agent_revoked", "this agent was revoked or has expired; an operator must issue a new agent");
}
