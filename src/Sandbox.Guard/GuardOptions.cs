namespace Sandbox.Guard;

/// <summary>The guard's settings, bound from <c>Sandbox:Guard</c>.</summary>
public sealed class GuardOptions
{
    public const string Section = "Sandbox:Guard";

    /// <summary>The credential for <c>/admin/v1</c>; unset means the admin API refuses every call. At least 32 characters, and never shaped like an agent key.</summary>
    public string? AdminKey { get; set; }

    /// <summary>The agent (name or id) that <c>sandbox mcp</c> runs as with local backends.</summary>
    public string? LocalAgent { get; set; }

    /// <summary>How long a run waits for a human before its approval expires and it is rejected.</summary>
    public TimeSpan ApprovalTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Profiles whose runs always wait for approval, whoever asks.</summary>
    public List<string> ApprovalProfiles { get; set; } = [];

    /// <summary>The longest stated purpose accepted, in characters.</summary>
    public int MaxPurposeLength { get; set; } = 1000;

    /// <summary>How often the service checks the store for revocations and approval decisions made elsewhere (the CLI, another node).</summary>
    public TimeSpan WatchInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    public AlertOptions Alerts { get; set; } = new();
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
