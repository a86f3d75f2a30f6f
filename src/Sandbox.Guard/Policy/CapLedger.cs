using System.Collections.Concurrent;
using System.Globalization;
using Sandbox.Core.Execution;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Policy;

/// <summary>
/// The caps in memory, and the one place a run's slot and CPU reservation are kept: runs in flight per agent, the CPU
/// limits they may still charge (per agent, and per task token), admissions in the last minute and token mints in the
/// last hour. Daily runs and CPU seconds are facts from the store, handed in. Only the run lifecycle holds and gives back
/// slots (<see cref="Hold"/>, <see cref="Give"/>), each under the agent's <see cref="LockAsync"/>, so a check and the hold
/// that follows it cannot be split by another run of the same agent.
/// </summary>
public sealed class CapLedger
{
    /// <summary>The period of a task token's usage: its whole life.</summary>
    public const string LifePeriod = "life";

    private static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(1);

    /// <summary>Bytes in the MiB of <see cref="Agents.Agent.DailyStoredMb"/>.</summary>
    private const long StoredMb = 1024 * 1024;

    /// <summary>The window of <see cref="GuardOptions.TokensPerAgentPerHour"/>.</summary>
    private static readonly TimeSpan TokenMintWindow = TimeSpan.FromHours(1);

    private static readonly Counters s_noToken = new();

    private readonly ConcurrentDictionary<string, Counters> _counters = new(StringComparer.Ordinal);

    /// <summary>The agent's usage period on <paramref name="now"/>: its UTC day.</summary>
    public static string Day(DateTimeOffset now) => now.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Serialises the cap decisions of one agent (admission, release, minting); dispose to let the next in.</summary>
    public async Task<IDisposable> LockAsync(string agentId, CancellationToken cancellationToken)
    {
        var gate = Of(agentId).Gate;
        await gate.WaitAsync(cancellationToken);
        return new Releaser(gate);
    }

    /// <summary>The agent's runs holding a slot now.</summary>
    public int InFlight(string agentId) => Volatile.Read(ref Of(agentId).InFlight);

    /// <summary>
    /// The first cap a new run of <paramref name="principal"/> would break, or null. <paramref name="approvedWaiting"/> are the
    /// agent's approved runs still waiting for a slot: they count like queued runs, so a new run cannot take their slot.
    /// </summary>
    public Admission? CheckCaps(Principal principal, int approvedWaiting, Usage usage, Usage tokenUsage, DateTimeOffset now)
    {
        var agent = principal.Agent;
        var counters = Of(agent.Id);
        var untilMidnight = Seconds(NextMidnight(now) - now);
        if (counters.InFlight + approvedWaiting >= agent.MaxConcurrentRuns)
        {
            var waiting = approvedWaiting > 0 ? $" and {approvedWaiting} approved run(s) waiting for a slot" : "";
            return Throttle(CapNames.Concurrency, 1, $"agent '{agent.Name}' already has {counters.InFlight} run(s) queued or running{waiting}, its cap of {agent.MaxConcurrentRuns}; retry when one finishes");
        }

        if (counters.Admissions.Count(now) >= agent.RatePerMinute)
        {
            var retry = Seconds(counters.Admissions.Oldest(now) + RateWindow - now);
            return Throttle(CapNames.Rate, retry, $"agent '{agent.Name}' reached its rate of {agent.RatePerMinute} runs per minute; retry after {retry} s");
        }

        if (usage.Runs >= agent.DailyRuns)
        {
            return Throttle(CapNames.DailyRuns, untilMidnight, $"agent '{agent.Name}' used its {agent.DailyRuns} runs for today (UTC); the budget resets at midnight UTC");
        }

        if (usage.CpuMs >= agent.DailyCpuSeconds * 1000)
        {
            return Throttle(CapNames.DailyCpuSeconds, untilMidnight, $"agent '{agent.Name}' used {usage.CpuMs / 1000.0:0.###} of its {agent.DailyCpuSeconds} CPU seconds for today (UTC); the budget resets at midnight UTC");
        }

        // Checked, not reserved: a day's store can overshoot by what the runs in flight then write, each bounded by its
        // request and its output and artifact limits, and the next run is refused.
        if (usage.StoredBytes >= (long)agent.DailyStoredMb * StoredMb)
        {
            return Throttle(CapNames.DailyStoredMb, untilMidnight, $"agent '{agent.Name}' had its runs add {usage.StoredBytes / (double)StoredMb:0.#} MiB to the store today (UTC), its cap of {agent.DailyStoredMb} MiB (code, stdin, files, output and artifacts); the budget resets at midnight UTC");
        }

        var reserved = Volatile.Read(ref counters.ReservedCpuMs);
        if (usage.CpuMs + reserved >= agent.DailyCpuSeconds * 1000)
        {
            return Throttle(CapNames.DailyCpuSeconds, 1, $"agent '{agent.Name}' used {usage.CpuMs / 1000.0:0.###} of its {agent.DailyCpuSeconds} CPU seconds for today (UTC) and its runs in flight may use the other {reserved / 1000.0:0.###}; retry when one finishes");
        }

        if (principal.IsTaskToken)
        {
            var untilExpiry = Seconds(principal.Credential.ExpiresAt - now);
            if (tokenUsage.Runs >= principal.Credential.MaxRuns)
            {
                return Throttle(CapNames.TokenRuns, untilExpiry, $"task token {principal.Credential.Id} used all {principal.Credential.MaxRuns} of its runs; mint a new token for more");
            }

            if (tokenUsage.CpuMs >= principal.Credential.CpuSeconds * 1000)
            {
                return Throttle(CapNames.TokenCpuSeconds, untilExpiry, $"task token {principal.Credential.Id} used all {principal.Credential.CpuSeconds} of its CPU seconds; mint a new token for more");
            }

            var tokenReserved = Volatile.Read(ref TokenOf(principal).ReservedCpuMs);
            if (tokenUsage.CpuMs + tokenReserved >= principal.Credential.CpuSeconds * 1000)
            {
                return Throttle(CapNames.TokenCpuSeconds, 1, $"task token {principal.Credential.Id} used {tokenUsage.CpuMs / 1000.0:0.###} of its {principal.Credential.CpuSeconds} CPU seconds and its runs in flight may use the other {tokenReserved / 1000.0:0.###}; retry when one finishes");
            }
        }

        return null;
    }

    /// <summary>Counts an admission (or a refused request) against the agent's rate.</summary>
    public void CountAdmission(Principal principal, DateTimeOffset now) => Of(principal.Agent.Id).Admissions.Add(now);

    /// <summary>
    /// Counts a refused request, or a session's open, against the agent's rate, or, when the agent is already at its rate,
    /// returns the throttle to answer instead; past the rate nothing more is counted, so a flood cannot grow the window.
    /// </summary>
    public Admission? CountAgainstRate(Principal principal, DateTimeOffset now)
    {
        var agent = principal.Agent;
        var counters = Of(agent.Id);
        if (counters.Admissions.Count(now) >= agent.RatePerMinute)
        {
            var retry = Seconds(counters.Admissions.Oldest(now) + RateWindow - now);
            return Throttle(CapNames.Rate, retry, $"agent '{agent.Name}' reached its rate of {agent.RatePerMinute} runs per minute, refused requests and session opens included; retry after {retry} s");
        }

        counters.Admissions.Add(now);
        return null;
    }

    /// <summary>
    /// Whether an approved run may take a slot now: one is free, and the budgets have CPU left that runs in flight do not
    /// hold (what they hold comes back when they finish). The other caps were checked when it was requested.
    /// </summary>
    public bool CanRelease(Principal principal, Usage usage, Usage tokenUsage) =>
        InFlight(principal.Agent.Id) < principal.Agent.MaxConcurrentRuns
        && !(CpuLeft(principal, usage, tokenUsage) <= 0 && (Volatile.Read(ref Of(principal.Agent.Id).ReservedCpuMs) > 0 || Volatile.Read(ref TokenOf(principal).ReservedCpuMs) > 0));

    /// <summary>
    /// A run may not use more CPU than the budgets have left: its CPU limit is tightened to what is neither used nor
    /// reserved by the runs already in flight, so together they cannot overshoot the budget.
    /// </summary>
    public RunPlan TightenToBudget(Principal principal, RunPlan plan, Usage usage, Usage tokenUsage)
    {
        var remaining = CpuLeft(principal, usage, tokenUsage);
        if (plan.Profile.Compile is { } compile && remaining < CpuLimitMs(plan))
        {
            // The compile step runs first, so it is served first; the program gets what the compiler may not use.
            var compileMs = Math.Clamp(remaining, 1, compile.Limits.CpuTimeMs);
            plan = plan with { Profile = plan.Profile with { Compile = compile with { Limits = compile.Limits with { CpuTimeMs = compileMs } } } };
            remaining -= compileMs;
        }

        return remaining < plan.Limits.CpuTimeMs
            ? plan with { Limits = plan.Limits with { CpuTimeMs = Math.Max(1, remaining) } }
            : plan;
    }

    /// <summary>Holds a slot and the run's CPU limit (its compile step's too) for a run about to be queued.</summary>
    public void Hold(Principal principal, RunPlan effective)
    {
        Interlocked.Increment(ref Of(principal.Agent.Id).InFlight);
        Reserve(principal, effective, +1);
    }

    /// <summary>Gives back what <see cref="Hold"/> took: the run ended, or its step could not be recorded.</summary>
    public void Give(Principal principal, RunPlan effective)
    {
        Interlocked.Decrement(ref Of(principal.Agent.Id).InFlight);
        Reserve(principal, effective, -1);
    }

    /// <summary>
    /// Holds a slot and <paramref name="cpuLimitMs"/> for a run that outlived the service and is followed after a restart:
    /// it still runs and may still charge, so new runs of its agent see it as a run in flight. Given back with <see cref="GiveFollowed"/>.
    /// </summary>
    public void HoldFollowed(Principal principal, long cpuLimitMs)
    {
        Interlocked.Increment(ref Of(principal.Agent.Id).InFlight);
        Reserve(principal, cpuLimitMs);
    }

    /// <summary>Gives back what <see cref="HoldFollowed"/> took, once the followed run is recorded.</summary>
    public void GiveFollowed(Principal principal, long cpuLimitMs)
    {
        Interlocked.Decrement(ref Of(principal.Agent.Id).InFlight);
        Reserve(principal, -cpuLimitMs);
    }

    /// <summary>What remains of each of the principal's budgets, from the usage read from the store.</summary>
    public IReadOnlyList<Budget> Budgets(Principal principal, Usage usage, Usage tokenUsage, DateTimeOffset now)
    {
        var agent = principal.Agent;
        var counters = Of(agent.Id);
        var midnight = NextMidnight(now);
        var budgets = new List<Budget>
        {
            Make(CapNames.Rate, agent.RatePerMinute, counters.Admissions.Count(now), now + RateWindow),
            Make(CapNames.Concurrency, agent.MaxConcurrentRuns, Volatile.Read(ref counters.InFlight), null),
            Make(CapNames.DailyRuns, agent.DailyRuns, usage.Runs, midnight),
            Make(CapNames.DailyCpuSeconds, agent.DailyCpuSeconds, usage.CpuMs / 1000.0, midnight),
            Make(CapNames.DailyStoredMb, agent.DailyStoredMb, usage.StoredBytes / (double)StoredMb, midnight),
        };
        if (principal.IsTaskToken)
        {
            budgets.Add(Make(CapNames.TokenRuns, principal.Credential.MaxRuns ?? 0, tokenUsage.Runs, null));
            budgets.Add(Make(CapNames.TokenCpuSeconds, principal.Credential.CpuSeconds ?? 0, tokenUsage.CpuMs / 1000.0, null));
        }

        return budgets;

        static Budget Make(string name, double limit, double used, DateTimeOffset? resets) =>
            new(name, limit, Math.Round(used, 3), Math.Round(Math.Max(0, limit - used), 3), resets);
    }

    /// <summary>Seconds until a mint would be within the agent's cap again, or null when one is now.</summary>
    public int? MintRetryAfter(string agentId, int perHour, DateTimeOffset now)
    {
        var mints = Of(agentId).Mints;
        return mints.Count(now) >= perHour
            ? (int)Math.Clamp(Math.Ceiling((mints.Oldest(now) + TokenMintWindow - now).TotalSeconds), 1, TokenMintWindow.TotalSeconds)
            : null;
    }

    /// <summary>Counts a minted token against its agent's hourly cap.</summary>
    public void CountMint(string agentId, DateTimeOffset now) => Of(agentId).Mints.Add(now);

    private static DateTimeOffset NextMidnight(DateTimeOffset now) => new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddDays(1);

    private static int Seconds(TimeSpan span) => (int)Math.Clamp(Math.Ceiling(span.TotalSeconds), 1, int.MaxValue);

    /// <summary>The most CPU a run may use: its own limit plus its compile step's, which is charged to the same budget.</summary>
    private static long CpuLimitMs(RunPlan plan) => plan.Limits.CpuTimeMs + (plan.Profile.Compile?.Limits.CpuTimeMs ?? 0);

    private static Admission Throttle(string cap, int retryAfter, string reason) => new()
    {
        Kind = AdmissionKind.Throttled,
        Code = "cap_exceeded",
        Cap = cap,
        Reason = reason,
        RetryAfterSeconds = retryAfter,
    };

    /// <summary>CPU milliseconds neither used nor reserved by runs in flight, for the agent and (if it is one) the token.</summary>
    private long CpuLeft(Principal principal, Usage usage, Usage tokenUsage)
    {
        var left = (long)(principal.Agent.DailyCpuSeconds * 1000) - usage.CpuMs - Volatile.Read(ref Of(principal.Agent.Id).ReservedCpuMs);
        if (principal.IsTaskToken && principal.Credential.CpuSeconds is { } tokenCpu)
        {
            left = Math.Min(left, (long)(tokenCpu * 1000) - tokenUsage.CpuMs - Volatile.Read(ref TokenOf(principal).ReservedCpuMs));
        }

        return left;
    }

    /// <summary>
    /// Holds (+1) or hands back (-1) a run's CPU limit against its budgets. Runs in flight have not been charged yet, so
    /// without this several admitted together could each be given the whole of what remained.
    /// </summary>
    private void Reserve(Principal principal, RunPlan plan, int sign) => Reserve(principal, sign * CpuLimitMs(plan));

    private void Reserve(Principal principal, long cpuMs)
    {
        Interlocked.Add(ref Of(principal.Agent.Id).ReservedCpuMs, cpuMs);
        if (principal.IsTaskToken)
        {
            Interlocked.Add(ref TokenOf(principal).ReservedCpuMs, cpuMs);
        }
    }

    private Counters Of(string agentId) => _counters.GetOrAdd(agentId, static _ => new Counters());

    /// <summary>A task token's own reservations (its CPU budget is its own); an agent key's are the agent's.</summary>
    private Counters TokenOf(Principal principal) =>
        principal.IsTaskToken ? _counters.GetOrAdd(principal.Credential.Id, static _ => new Counters()) : s_noToken;

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }

    /// <summary>One agent's (or task token's) counters: runs in flight, CPU they hold, admissions in the last minute, mints in the last hour.</summary>
    private sealed class Counters
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public int InFlight;

        /// <summary>The CPU limits, in ms, of the runs in flight: what they may still charge to the budget.</summary>
        public long ReservedCpuMs;

        public SlidingWindow Admissions { get; } = new(RateWindow);

        /// <summary>Bounded by the cap, since a mint is only recorded while fewer than TokensPerAgentPerHour are in the window.</summary>
        public SlidingWindow Mints { get; } = new(TokenMintWindow);
    }
}
