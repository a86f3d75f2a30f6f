using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;

namespace Sandbox.Core.Execution;

/// <summary>
/// Runs a validated plan and reports exactly what happened. Program failures and limit kills are
/// results; only broken infrastructure throws (a <see cref="Errors.SandboxInfrastructureException"/>).
/// </summary>
public interface IExecutionBackend
{
    /// <summary>The name profiles use to pick this backend, such as <c>docker</c>.</summary>
    string Name { get; }

    /// <summary>
    /// The least each limit of a run on <paramref name="profile"/> must be for this backend to start it; requests and
    /// profiles are validated against it before anything runs.
    /// </summary>
    BackendMinimums MinimumsFor(Profile profile) => BackendMinimums.None;

    /// <summary>
    /// The digest of what would run <paramref name="plan"/> (see <see cref="RunPlan.ArtifactDigest"/>): the plan's own
    /// digest when it has one and it is still present, else the profile's current one; null when it is absent or unknown.
    /// Never throws for an unreachable runtime: the run itself reports that.
    /// </summary>
    Task<string?> DigestAsync(RunPlan plan, CancellationToken cancellationToken) => Task.FromResult<string?>(null);

    /// <summary>Runs the plan. Cancellation kills the run and throws <see cref="OperationCanceledException"/>.</summary>
    Task<RunResult> ExecuteAsync(RunPlan plan, CancellationToken cancellationToken);
}
