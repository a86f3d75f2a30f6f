using Sandbox.Core.Runs;

namespace Sandbox.Docker.Recovery;

/// <summary>One run found by <see cref="ContainerRecovery"/>.</summary>
public sealed record RecoveredRun
{
    public required string RunId { get; init; }

    /// <summary>The run's real end; null when its run step was never found started (it is then recorded interrupted).</summary>
    public RunResult? Result { get; init; }
}
