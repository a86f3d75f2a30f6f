using Sandbox.Core.Runs;

namespace Sandbox.Server.Runs;

/// <summary>The gateway over this process's own coordinator and backends (the MCP server with local backends).</summary>
internal sealed class LocalRunGateway : IRunGateway
{
    private readonly RunCoordinator _coordinator;

    public LocalRunGateway(RunCoordinator coordinator) => _coordinator = coordinator;

    public async Task<GatewayResult> RunAsync(RunRequest request, CancellationToken cancellationToken)
    {
        var outcome = _coordinator.Submit(request, rawOutput: false);
        if (outcome.Entry is not { } entry)
        {
            return GatewayResult.Of(outcome.Problem!);
        }

        await entry.Completed.WaitAsync(cancellationToken);
        return GatewayResult.Of(RunCoordinator.View(entry));
    }

    public Task<GatewayResult> GetRunAsync(string id, CancellationToken cancellationToken) =>
        Task.FromResult(_coordinator.Find(id) is { } entry ? GatewayResult.Of(RunCoordinator.View(entry)) : GatewayResult.Of(ApiProblem.NotFound(id)));

    public Task<IReadOnlyList<LanguageView>> ListLanguagesAsync(CancellationToken cancellationToken) =>
        Task.FromResult(Catalog.Languages(_coordinator.Pipeline.Profiles, _coordinator.Pipeline.UnavailableBackends));
}
