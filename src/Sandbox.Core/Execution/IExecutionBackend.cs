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

    /// <summary>Runs the plan. Cancellation kills the run and throws <see cref="OperationCanceledException"/>.</summary>
    Task<RunResult> ExecuteAsync(RunPlan plan, CancellationToken cancellationToken);
}
