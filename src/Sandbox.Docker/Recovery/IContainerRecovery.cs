namespace Sandbox.Docker.Recovery;

/// <summary>
/// Start-up recovery, Docker side, in two parts so the service can listen before a still-running run ends: find this
/// node's runs by their containers' labels (fast), then recover each, at once when its container exited, by following it
/// to its end when it still runs. The service's side fakes it in its unit tests.
/// </summary>
public interface IContainerRecovery
{
    /// <summary>The runs <paramref name="isOurs"/> claims that have labelled containers, and whether each is still running.</summary>
    Task<IReadOnlyList<RecoverableRun>> FindAsync(Func<string, bool> isOurs, CancellationToken cancellationToken);

    /// <summary>
    /// The run's real end, its output starting with <paramref name="prior"/> (what it persisted as it streamed before the
    /// crash), and its containers removed. A followed run is killed when <paramref name="shutdown"/> fires and ends
    /// <c>cancelled</c>, its output and usage kept; <paramref name="cancellationToken"/> abandons it without a result.
    /// </summary>
    Task<RecoveredRun> RecoverAsync(RecoverableRun run, RecoveredOutput prior, CancellationToken shutdown, CancellationToken cancellationToken);

    /// <summary>
    /// Kills and removes the containers of a run whose end is already recorded (the service died after recording it and
    /// before removing them), and their cgroups; nothing in them is read. A session's kernel is left to its own owner.
    /// </summary>
    Task DiscardAsync(RecoverableRun run, CancellationToken cancellationToken);
}
