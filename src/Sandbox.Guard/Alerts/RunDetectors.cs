using Sandbox.Core.Runs;

namespace Sandbox.Guard.Alerts;

/// <summary>
/// Three detectors over each agent's recent runs: <c>loop</c> (the same code admitted again and again),
/// <c>rate_spike</c> (far more admissions than the agent's own recent pace) and <c>failure_streak</c> (run after
/// run ending other than ok). The detectors themselves are in <c>RunDetectors.Detectors.cs</c>.
/// </summary>
/// <remarks>
/// <para>
/// Every time comes from the observations, never from a clock, so the same sequence of observations always
/// yields the same alerts. History lives in memory on this node: after a restart, loops and streaks start counting
/// again, and an agent already busy looks new to the rate spike (which fires once for it; see its remarks).
/// </para>
/// <para>
/// After a detector fires for an agent it stays silent for that agent for <see cref="AlertOptions.Cooldown"/>, and
/// its count starts again from zero: one long loop fires at most once per cooldown, and again only when the runs
/// after the last alert meet the threshold on their own.
/// </para>
/// <para>
/// Memory is bounded: an agent keeps only the admissions inside the longest window, at most
/// <see cref="MaxHistoryPerAgent"/> of them, and agents idle for longer than every window and the cooldown are
/// forgotten unless they are part-way through a failure streak.
/// </para>
/// <para>
/// Thread-safe. One lock guards everything; it is held briefly: a call costs O(log n) in one agent's history
/// (amortized), and every <c>SweepEvery</c> observations one call also visits every agent.
/// </para>
/// </remarks>
public sealed partial class RunDetectors
{
    public const string LoopDetector = "loop";
    public const string RateSpikeDetector = "rate_spike";
    public const string FailureStreakDetector = "failure_streak";

    /// <summary>The most admissions remembered per agent; older ones are dropped first (the rate spike then averages over what is left).</summary>
    public const int MaxHistoryPerAgent = 10_000;

    // How many observations pass between sweeps of idle agents; a sweep visits every agent once.
    private const int SweepEvery = 4096;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, AgentState> _agents = new(StringComparer.Ordinal);

    // A snapshot of the options: they are a mutable class, and a change mid-flight would make windows inconsistent.
    private readonly TimeSpan _cooldown;
    private readonly int _loopThreshold;
    private readonly TimeSpan _loopWindow;
    private readonly int _failureStreakThreshold;
    private readonly TimeSpan _spikeWindow;
    private readonly TimeSpan _spikeBaselineWindow;
    private readonly double _spikeFactor;
    private readonly int _spikeMinRuns;
    private readonly TimeSpan _horizon;

    private int _sinceSweep;
    private DateTimeOffset _latest = DateTimeOffset.MinValue;

    /// <param name="options">The thresholds; checked with the same rules as start-up validation.</param>
    /// <exception cref="ArgumentException">A threshold or window is out of range; the message lists every problem.</exception>
    public RunDetectors(AlertOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<FieldError> errors = AlertOptionsValidator.ValidateDetectors(options);
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid alert options:" + string.Concat(errors.Select(e => "\n  - " + e)), nameof(options));
        }

        _cooldown = options.Cooldown;
        _loopThreshold = options.LoopThreshold;
        _loopWindow = options.LoopWindow;
        _failureStreakThreshold = options.FailureStreakThreshold;
        _spikeWindow = options.SpikeWindow;
        _spikeBaselineWindow = options.SpikeBaselineWindow;
        _spikeFactor = options.SpikeFactor;
        _spikeMinRuns = options.SpikeMinRuns;
        _horizon = _loopWindow > _spikeWindow + _spikeBaselineWindow ? _loopWindow : _spikeWindow + _spikeBaselineWindow;
    }

    /// <summary>Records an admitted run and runs the <c>loop</c> and <c>rate_spike</c> detectors.</summary>
    /// <param name="run">The run at admission: <see cref="RunObservation.Status"/> is null.</param>
    /// <returns>The alerts that fired, usually none.</returns>
    /// <exception cref="ArgumentException">The observation carries a status (a completion belongs in <see cref="OnCompleted"/>).</exception>
    public IReadOnlyList<Alert> OnAdmitted(RunObservation run)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.Status is not null)
        {
            throw new ArgumentException($"run {run.RunId} has status '{run.Status}': an admission has none yet; pass completions to OnCompleted", nameof(run));
        }

        lock (_lock)
        {
            AgentState agent = Observe(run);
            agent.Admissions.Prune(run.At - _horizon);
            (long sequence, DateTimeOffset at) = agent.Admissions.Add(run.At, run.CodeSha256);
            agent.LastAdmission = (run.RunId, sequence);
            List<Alert>? alerts = null;
            Add(ref alerts, DetectLoop(agent, run, at));
            Add(ref alerts, DetectRateSpike(agent, run, sequence, at));
            return alerts ?? (IReadOnlyList<Alert>)[];
        }
    }

    /// <summary>
    /// Records a finished run and runs the <c>failure_streak</c> detector; a run our infrastructure failed
    /// (<c>sandbox_error</c>, <c>interrupted</c>) no longer counts towards a <c>loop</c> either.
    /// </summary>
    /// <param name="run">The run at completion: <see cref="RunObservation.Status"/> is the final wire status.</param>
    /// <returns>The alerts that fired, usually none.</returns>
    /// <exception cref="ArgumentException">The observation has no status.</exception>
    public IReadOnlyList<Alert> OnCompleted(RunObservation run)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.Status is null)
        {
            throw new ArgumentException($"run {run.RunId} has no status: pass admissions to OnAdmitted, completions with their final status here", nameof(run));
        }

        lock (_lock)
        {
            AgentState agent = Observe(run);
            if (run.Status is SandboxErrorStatus or InterruptedStatus)
            {
                // Our fault: the agent retrying the same code through an outage is not a loop (issue 11, fault 9).
                agent.Admissions.Forgive(run.CodeSha256);
            }

            return DetectFailureStreak(agent, run) is { } alert ? [alert] : [];
        }
    }

    /// <summary>
    /// Takes back the admission of <paramref name="runId"/> when its commit failed (nothing of it was written): no phantom
    /// run counts towards a loop or a spike. Only the agent's newest admission can be taken back, which it is, since the
    /// lifecycle decides and commits under the agent's lock. An alert that fired with it was never published (alerts go
    /// out after the commit); its cooldown stays, the cautious side. False when there was nothing to take back.
    /// </summary>
    public bool Withdraw(string agentId, string runId)
    {
        lock (_lock)
        {
            if (!_agents.TryGetValue(agentId, out AgentState? agent) || agent.LastAdmission is not { } last || last.RunId != runId)
            {
                return false;
            }

            agent.LastAdmission = null;
            return agent.Admissions.Withdraw(last.Sequence);
        }
    }

    /// <summary>How many agents have state, for tests of the memory bound.</summary>
    internal int TrackedAgents
    {
        get
        {
            lock (_lock)
            {
                return _agents.Count;
            }
        }
    }

    private static void Add(ref List<Alert>? alerts, Alert? alert)
    {
        if (alert is not null)
        {
            (alerts ??= []).Add(alert);
        }
    }

    // Caller holds _lock.
    private AgentState Observe(RunObservation run)
    {
        if (run.At > _latest)
        {
            _latest = run.At;
        }

        if (++_sinceSweep >= SweepEvery)
        {
            _sinceSweep = 0;
            SweepIdleAgents();
        }

        if (!_agents.TryGetValue(run.AgentId, out AgentState? agent))
        {
            agent = new AgentState(MaxHistoryPerAgent);
            _agents.Add(run.AgentId, agent);
        }

        agent.Name = run.AgentName;
        if (run.At > agent.LastSeen)
        {
            agent.LastSeen = run.At;
        }

        return agent;
    }

    // Caller holds _lock. Forgets agents with nothing left that could matter: no admission inside any window, no
    // cooldown running, no streak under way (a streak has no time limit, so it is kept however old).
    private void SweepIdleAgents()
    {
        DateTimeOffset idleBefore = _latest - _horizon - _cooldown;
        List<string>? idle = null;
        foreach ((string id, AgentState agent) in _agents)
        {
            agent.Admissions.Prune(_latest - _horizon);
            if (agent.LastSeen < idleBefore && agent.Admissions.Count == 0 && agent.Streak == 0)
            {
                (idle ??= []).Add(id);
            }
        }

        foreach (string id in idle ?? [])
        {
            _agents.Remove(id);
        }
    }

    private bool InCooldown(AgentState agent, string detector, DateTimeOffset at) =>
        agent.FiredAt.TryGetValue(detector, out DateTimeOffset fired) && at < fired + _cooldown;

    /// <summary>One agent's state; guarded by the detectors' lock.</summary>
    private sealed class AgentState(int historyCapacity)
    {
        public string Name { get; set; } = "";

        public DateTimeOffset LastSeen { get; set; } = DateTimeOffset.MinValue;

        public AdmissionHistory Admissions { get; } = new(historyCapacity);

        /// <summary>Per detector, when it last fired for this agent.</summary>
        public Dictionary<string, DateTimeOffset> FiredAt { get; } = new(StringComparer.Ordinal);

        /// <summary>The rate spike counts only admissions after this sequence number: it resets on firing.</summary>
        public long SpikeCountsAfter { get; set; } = -1;

        public int Streak { get; set; }

        /// <summary>The newest admission recorded, for <see cref="Withdraw"/>.</summary>
        public (string RunId, long Sequence)? LastAdmission { get; set; }

        /// <summary>The statuses of the current streak, the newest last, at most the threshold's worth.</summary>
        public Queue<string> StreakStatuses { get; } = new();
    }
}
