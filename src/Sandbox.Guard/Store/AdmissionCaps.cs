namespace Sandbox.Guard.Store;

/// <summary>
/// An agent's caps as a store shared by several nodes checks them when it admits a run (see
/// <see cref="IGuardStore.AdmitWithinCapsAsync"/>): what the node's own ledger cannot see is what the other nodes hold.
/// </summary>
/// <param name="AgentId">The agent whose runs are counted.</param>
/// <param name="MaxConcurrentRuns">Runs of the agent queued or running, on every node together, including this one.</param>
/// <param name="RatePerMinute">Runs of the agent admitted in the minute before <paramref name="Now"/>, on every node, including this one.</param>
/// <param name="DailyCpuMs">The agent's CPU budget for <paramref name="Day"/>: used CPU plus what runs in flight on every node may still charge, this one's included, stays within it.</param>
/// <param name="Day">The usage period of the budget (a UTC day).</param>
/// <param name="CpuReserveMs">The most CPU this run may charge (its limit and its compile step's).</param>
/// <param name="Now">The admission's time on the admitting node.</param>
public sealed record AdmissionCaps(string AgentId, int MaxConcurrentRuns, int RatePerMinute, long DailyCpuMs, string Day, long CpuReserveMs, DateTimeOffset Now)
{
    /// <summary>The window of <see cref="RatePerMinute"/>.</summary>
    public static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(1);
}
