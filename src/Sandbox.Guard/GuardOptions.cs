namespace Sandbox.Guard;

/// <summary>The guard's settings, bound from <c>Sandbox:Guard</c>.</summary>
public sealed class GuardOptions
{
    public const string Section = "Sandbox:Guard";

    /// <summary>The credential for <c>/admin/v1</c>; unset means the admin API refuses every call. At least 32 characters, and never shaped like an agent key.</summary>
    public string? AdminKey { get; set; }

    /// <summary>
    /// This process's name in the audit log. At start-up a node reconciles only its own unfinished runs, so
    /// two processes sharing one store (the service and <c>sandbox mcp</c>) never close each other's runs.
    /// Empty means a default from the host name and the front end.
    /// </summary>
    public string? NodeId { get; set; }

    /// <summary>The agent (name or id) that <c>sandbox mcp</c> runs as with local backends.</summary>
    public string? LocalAgent { get; set; }

    /// <summary>How long a run waits for a human before its approval expires and it is rejected.</summary>
    public TimeSpan ApprovalTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The longest stated purpose accepted, in characters.</summary>
    public int MaxPurposeLength { get; set; } = 1000;

    /// <summary>How often the service checks the store for revocations and approval decisions made elsewhere (the CLI, another node).</summary>
    public TimeSpan WatchInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Failed authentications audited one by one per minute; past this, they are counted and the minute's
    /// count is written as one <c>auth</c> record with status <c>suppressed</c>. A flood of bad keys is then
    /// still fully accounted for, but cannot grow the audit log without bound.
    /// </summary>
    public int AuthFailuresAuditedPerMinute { get; set; } = 60;

    /// <summary>
    /// One agent's refused requests (runs and task-token mints: invalid, off its allow-list, over a cap) audited one by
    /// one per minute; past this, they are counted by code and the minute's count is written as one <c>decision</c>
    /// record with status <c>suppressed</c>. Refusals have no cap of their own (a throttled agent is answered 429 as fast
    /// as it asks), so a loop of them must not grow the audit log without bound.
    /// </summary>
    public int RefusalsAuditedPerMinute { get; set; } = 60;

    /// <summary>
    /// Task tokens an agent may mint in any hour; past it, minting is refused (429, cap <c>token_mint_rate</c>) and audited.
    /// Each token is a stored credential and an audit record, so minting must not be free of a cap.
    /// </summary>
    public int TokensPerAgentPerHour { get; set; } = 60;

    public AlertOptions Alerts { get; set; } = new();

    /// <summary>Every problem with the settings, each naming its key; empty when they are usable.</summary>
    public IReadOnlyList<Core.Runs.FieldError> Validate()
    {
        var errors = new List<Core.Runs.FieldError>();
        void Check(bool ok, string key, string message)
        {
            if (!ok)
            {
                errors.Add(new Core.Runs.FieldError($"{Section}:{key}", message));
            }
        }

        // The admin key must never be mistaken for (or usable as) an agent key, and must be long enough not to be guessed.
        Check(AdminKey is null || AdminKey.Length >= 32, nameof(AdminKey), "is shorter than 32 characters; generate one with `openssl rand -hex 32`");
        Check(AdminKey is null || !(AdminKey.StartsWith(Agents.AgentKeys.AgentKeyPrefix, StringComparison.Ordinal) || AdminKey.StartsWith(Agents.AgentKeys.TaskTokenPrefix, StringComparison.Ordinal)),
            nameof(AdminKey), "looks like an agent key; the admin key must be a separate secret");
        Check(ApprovalTimeout > TimeSpan.Zero, nameof(ApprovalTimeout), $"is {ApprovalTimeout}; use a positive time such as 01:00:00");
        Check(MaxPurposeLength is >= 16 and <= 100_000, nameof(MaxPurposeLength), $"is {MaxPurposeLength}; use 16 to 100000");
        Check(AuthFailuresAuditedPerMinute is >= 1 and <= 100_000, nameof(AuthFailuresAuditedPerMinute), $"is {AuthFailuresAuditedPerMinute}; use 1 to 100000");
        Check(RefusalsAuditedPerMinute is >= 1 and <= 100_000, nameof(RefusalsAuditedPerMinute), $"is {RefusalsAuditedPerMinute}; use 1 to 100000");
        Check(TokensPerAgentPerHour is >= 1 and <= 100_000, nameof(TokensPerAgentPerHour), $"is {TokensPerAgentPerHour}; use 1 to 100000");
        Check(WatchInterval > TimeSpan.Zero && WatchInterval <= TimeSpan.FromSeconds(1), nameof(WatchInterval), $"is {WatchInterval}; use more than zero and at most 00:00:01 (revocation must bite within a second)");
        Check(Alerts.WebhookUrl is null || Uri.TryCreate(Alerts.WebhookUrl, UriKind.Absolute, out var hook) && hook.Scheme is "http" or "https", "Alerts:WebhookUrl", $"is '{Alerts.WebhookUrl}'; use an absolute http or https URL");
        Check(Alerts.LoopThreshold >= 2, "Alerts:LoopThreshold", $"is {Alerts.LoopThreshold}; use at least 2");
        Check(Alerts.LoopWindow > TimeSpan.Zero, "Alerts:LoopWindow", "use a positive time");
        Check(Alerts.FailureStreakThreshold >= 2, "Alerts:FailureStreakThreshold", $"is {Alerts.FailureStreakThreshold}; use at least 2");
        Check(Alerts.SpikeWindow > TimeSpan.Zero && Alerts.SpikeBaselineWindow > TimeSpan.Zero, "Alerts:SpikeWindow", "use positive times for SpikeWindow and SpikeBaselineWindow");
        Check(Alerts.SpikeFactor > 1, "Alerts:SpikeFactor", $"is {Alerts.SpikeFactor}; use more than 1");
        Check(Alerts.SpikeMinRuns >= 2, "Alerts:SpikeMinRuns", $"is {Alerts.SpikeMinRuns}; use at least 2");
        Check(Alerts.Cooldown >= TimeSpan.Zero, "Alerts:Cooldown", "use zero or a positive time");
        return errors;
    }
}

/// <summary>Detector thresholds and where alerts go, bound from <c>Sandbox:Guard:Alerts</c>.</summary>
public sealed class AlertOptions
{
    /// <summary>Where each alert is POSTed as JSON; unset means audit and log only.</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>Whether a firing detector also puts the agent under approval until an operator clears it.</summary>
    public bool HoldAgent { get; set; }

    /// <summary>After a detector fires for an agent, it stays quiet for that agent this long.</summary>
    public TimeSpan Cooldown { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Loop: the same code hash admitted this many times within <see cref="LoopWindow"/>.</summary>
    public int LoopThreshold { get; set; } = 5;

    public TimeSpan LoopWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Failure streak: this many runs in a row ending other than ok (cancelled runs neither count nor break it).</summary>
    public int FailureStreakThreshold { get; set; } = 5;

    /// <summary>Rate spike: runs admitted in the last <see cref="SpikeWindow"/>...</summary>
    public TimeSpan SpikeWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>...compared with the agent's average per <see cref="SpikeWindow"/> over this much time before it.</summary>
    public TimeSpan SpikeBaselineWindow { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Fires when the current count is at least this many times the baseline...</summary>
    public double SpikeFactor { get; set; } = 4;

    /// <summary>...and at least this many runs (so a quiet agent's third run is not a spike).</summary>
    public int SpikeMinRuns { get; set; } = 20;
}
