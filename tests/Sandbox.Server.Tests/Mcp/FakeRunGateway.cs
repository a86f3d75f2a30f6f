using Sandbox.Core.Runs;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Tests.Mcp;

/// <summary>A gateway that answers what the test set up and remembers what it was asked.</summary>
internal sealed class FakeRunGateway : IRunGateway
{
    public Func<RunRequest, GatewayResult> OnRun { get; set; } = request => GatewayResult.Of(Some.View(Some.Result(RunStatus.Ok) with { Language = request.Language }));

    public Func<string, GatewayResult> OnGet { get; set; } = id => GatewayResult.Of(ApiProblem.NotFound(id));

    public Func<IReadOnlyList<LanguageView>> OnLanguages { get; set; } = () => Some.Languages();

    public List<RunRequest> Requests { get; } = [];

    public Task<GatewayResult> RunAsync(RunRequest request, CancellationToken cancellationToken)
    {
        Requests.Add(request);
        return Task.FromResult(OnRun(request));
    }

    public Task<GatewayResult> GetRunAsync(string id, CancellationToken cancellationToken) => Task.FromResult(OnGet(id));

    public Task<IReadOnlyList<LanguageView>> ListLanguagesAsync(CancellationToken cancellationToken) => Task.FromResult(OnLanguages());
}
