using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Docker.IntegrationTests.Support;
using Sandbox.Docker.Sessions;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.IntegrationTests.Sessions;

/// <summary>Opens sessions of one language on the real daemon and runs cells in them, as the pipeline does for the service.</summary>
internal sealed class KernelSessions(SandboxFixture sandbox, string language)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>The run id of the last cell sent, to ask its session for its notes.</summary>
    public string LastRunId { get; private set; } = "";

    public async Task<DockerSession> OpenAsync()
    {
        await DockerRequirement.EnsureAvailableAsync(sandbox.Docker);
        await sandbox.EnsureRuntimeRegisteredAsync();
        var plan = await sandbox.Pipeline.PinAsync(Plan(new RunRequest { Language = language, Code = ":" }), Token);
        var sessions = new DockerSessions(sandbox.Docker, sandbox.Meter, TimeProvider.System, NullLogger<DockerSession>.Instance);
        return await sessions.OpenAsync("ses_" + Guid.NewGuid().ToString("N"), plan, new DockerSessionOptions(), Token);
    }

    public async Task<RunResult> CellAsync(DockerSession session, string code, LimitOverrides? limits = null, string? stdin = null, IReadOnlyList<InputFile>? files = null)
    {
        var plan = Plan(new RunRequest { Language = language, Code = code, Limits = limits, Stdin = stdin, Files = files }) with { Session = session };
        LastRunId = plan.RunId;
        return await sandbox.Pipeline.ExecuteAsync(plan, Token);
    }

    /// <summary>The session's containers the daemon still has (running or not).</summary>
    public async Task<IReadOnlyList<Client.ContainerSummary>> ContainersAsync(string sessionId) =>
        [.. (await sandbox.Docker.ListContainersAsync([SandboxLabels.Managed + "=true"], Token)).Where(c => c.Labels?.GetValueOrDefault(SandboxLabels.RunId) == sessionId)];

    private RunPlan Plan(RunRequest request)
    {
        var (plan, errors) = sandbox.Pipeline.Plan(sandbox.ForRuntime(request));
        plan.ShouldNotBeNull(string.Join("; ", errors));
        return plan;
    }
}
