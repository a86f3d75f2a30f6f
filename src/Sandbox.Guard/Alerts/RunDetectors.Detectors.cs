using System.Globalization;
using System.Text.Json.Nodes;

namespace Sandbox.Guard.Alerts;

// The three detectors. Each caller holds _lock; each counts first and checks the cooldown last, so history
// keeps accumulating while an alert is suppressed. Admissions are timed as AdmissionHistory recorded them (see
// its remarks on stragglers); alerts carry the observation's own time.
public sealed partial class RunDetectors
{
    private const string OkStatus = "ok";

    // A human (DELETE) or a shutdown cancelled the run, not the agent: it neither counts towards a streak nor breaks one.
    private const string CancelledStatus = "cancelled";
    private const string SandboxErrorStatus = "sandbox_error";
    private const string InterruptedStatus = "interrupted";

    /// <summary>
    /// <c>loop</c>: the admitted code's hash was admitted at least <see cref="AlertOptions.LoopThreshold"/> times in
    /// (At − <see cref="AlertOptions.LoopWindow"/>, At], counting only admissions since this detector last fired
    /// for the agent (for any hash).
    /// </summary>
    private Alert? DetectLoop(AgentState agent, RunObservation run, DateTimeOffset at)
    {
        int count = agent.Admissions.LoopCount(run.CodeSha256, at - _loopWindow);
        if (count < _loopThreshold || InCooldown(agent, LoopDetector, at))
        {
            return null;
        }

        agent.Admissions.ResetLoop();
        return Fire(
            agent,
            LoopDetector,
            at,
            run,
            Invariant($"agent {run.AgentName} ran the same code (sha256 {ShortHash(run.CodeSha256)}) {count} times in {Describe(_loopWindow)}"),
            new JsonObject
            {
                ["codeSha256"] = run.CodeSha256,
                ["count"] = count,
                ["threshold"] = _loopThreshold,
                ["windowSeconds"] = _loopWindow.TotalSeconds,
            });
    }

    /// <summary>
    /// <c>rate_spike</c>: <c>current</c>, the admissions in (At − SpikeWindow, At] since this detector last fired,
    /// is at least <see cref="AlertOptions.SpikeMinRuns"/> and at least <see cref="AlertOptions.SpikeFactor"/> times
    /// the baseline: the agent's admissions in (At − SpikeWindow − SpikeBaselineWindow, At − SpikeWindow], averaged
    /// per SpikeWindow. The two spans meet without a gap or an overlap.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The average is over the part of the baseline span this node has seen the agent for (since its first
    /// admission here), not the whole span, and over no less than one SpikeWindow. Over the whole span, an agent
    /// younger than SpikeBaselineWindow (every agent, after a restart) would look quieter than it is and its steady
    /// pace would fire again at the end of each cooldown.
    /// </para>
    /// <para>
    /// A new agent therefore has a baseline of 0, so its first SpikeMinRuns admissions within one window fire: an
    /// unknown agent arriving at full speed is worth a look. When the history cap has dropped admissions inside the
    /// baseline span, the average is over the part still held; when it has dropped the whole span, the agent is too
    /// busy to judge and the detector stays silent.
    /// </para>
    /// </remarks>
    private Alert? DetectRateSpike(AgentState agent, RunObservation run, long sequence, DateTimeOffset at)
    {
        DateTimeOffset windowStart = at - _spikeWindow;
        DateTimeOffset baselineStart = windowStart - _spikeBaselineWindow;
        int current = agent.Admissions.CountAfter(windowStart, agent.SpikeCountsAfter);
        if (current < _spikeMinRuns)
        {
            return null;
        }

        int before = agent.Admissions.CountBetween(baselineStart, windowStart);
        DateTimeOffset knownFrom = Latest(baselineStart, agent.Admissions.FirstAt);
        if (agent.Admissions.EvictedThrough is { } evicted)
        {
            if (evicted >= windowStart)
            {
                return null;
            }

            knownFrom = Latest(knownFrom, evicted);
        }

        TimeSpan covered = windowStart - knownFrom;
        if (covered < _spikeWindow)
        {
            covered = _spikeWindow;
        }

        double baseline = before * (_spikeWindow / covered);
        if (current < _spikeFactor * baseline || InCooldown(agent, RateSpikeDetector, at))
        {
            return null;
        }

        agent.SpikeCountsAfter = sequence;
        string usual = before == 0
            ? Invariant($"with none in the {Describe(_spikeBaselineWindow)} before")
            : Invariant($"against its usual {baseline:0.#} per {Describe(_spikeWindow)}");
        return Fire(
            agent,
            RateSpikeDetector,
            at,
            run,
            Invariant($"agent {run.AgentName} had {current} runs admitted in {Describe(_spikeWindow)}, {usual}"),
            new JsonObject
            {
                ["current"] = current,
                ["baselinePerWindow"] = Math.Round(baseline, 3),
                ["factor"] = _spikeFactor,
                ["minRuns"] = _spikeMinRuns,
                ["windowSeconds"] = _spikeWindow.TotalSeconds,
                ["baselineWindowSeconds"] = _spikeBaselineWindow.TotalSeconds,
            });
    }

    /// <summary>
    /// <c>failure_streak</c>: <see cref="AlertOptions.FailureStreakThreshold"/> completions in a row ending other than
    /// <c>ok</c>. <c>ok</c> resets the streak; <c>cancelled</c> is skipped, and so are our own faults
    /// (<c>sandbox_error</c>, <c>interrupted</c>): an outage is not the agent's failure, and with <c>HoldAgent</c> it
    /// would otherwise put every agent on hold. The streak has no time limit.
    /// </summary>
    private Alert? DetectFailureStreak(AgentState agent, RunObservation run)
    {
        string status = run.Status!;
        if (status is CancelledStatus or SandboxErrorStatus or InterruptedStatus)
        {
            return null;
        }

        if (string.Equals(status, OkStatus, StringComparison.Ordinal))
        {
            agent.Streak = 0;
            agent.StreakStatuses.Clear();
            return null;
        }

        agent.Streak++;
        agent.StreakStatuses.Enqueue(status);
        while (agent.StreakStatuses.Count > _failureStreakThreshold)
        {
            agent.StreakStatuses.Dequeue();
        }

        if (agent.Streak < _failureStreakThreshold || InCooldown(agent, FailureStreakDetector, run.At))
        {
            return null;
        }

        int streak = agent.Streak;
        var statuses = new JsonArray(agent.StreakStatuses.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray());
        agent.Streak = 0;
        agent.StreakStatuses.Clear();
        return Fire(
            agent,
            FailureStreakDetector,
            run.At,
            run,
            Invariant($"agent {run.AgentName} had {streak} runs in a row end other than ok (the last: {status})"),
            new JsonObject
            {
                ["streak"] = streak,
                ["threshold"] = _failureStreakThreshold,
                ["statuses"] = statuses,
            });
    }

    /// <summary>
    /// Starts <paramref name="detector"/>'s cooldown for the agent at <paramref name="at"/> and builds its alert: the
    /// observation's agent and time, and the detector's details ending with the run that tipped it.
    /// </summary>
    private static Alert Fire(AgentState agent, string detector, DateTimeOffset at, RunObservation run, string summary, JsonObject details)
    {
        agent.FiredAt[detector] = at;
        details["runId"] = run.RunId;
        return new Alert
        {
            Detector = detector,
            AgentId = run.AgentId,
            AgentName = run.AgentName,
            Summary = summary,
            At = run.At,
            Details = details,
        };
    }

    private static DateTimeOffset Latest(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The first 8 hex digits and an ellipsis: enough to tell runs apart in a chat message.</summary>
    private static string ShortHash(string sha256) => sha256.Length <= 8 ? sha256 : string.Concat(sha256.AsSpan(0, 8), "…");

    /// <summary>"10 min", "1 h", "45 s", "1.5 s": the largest unit that divides the span evenly.</summary>
    internal static string Describe(TimeSpan span)
    {
        if (span.Ticks % TimeSpan.TicksPerHour == 0)
        {
            return Invariant($"{span.Ticks / TimeSpan.TicksPerHour} h");
        }

        if (span.Ticks % TimeSpan.TicksPerMinute == 0)
        {
            return Invariant($"{span.Ticks / TimeSpan.TicksPerMinute} min");
        }

        return Invariant($"{span.TotalSeconds:0.###} s");
    }
}
