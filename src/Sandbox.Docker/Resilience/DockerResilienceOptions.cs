namespace Sandbox.Docker.Resilience;

/// <summary>
/// How calls to the Docker daemon are timed out, retried and cut off. Bound from configuration
/// (section <c>Docker:Resilience</c>) and checked once by <see cref="DockerResilienceOptionsValidator"/>.
/// </summary>
internal sealed record DockerResilienceOptions
{
    /// <summary>Upper bound of one attempt of any call but wait (wait lasts as long as the container).</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries after the first attempt, for calls safe to repeat and transient errors only; 0 disables retry.</summary>
    public int MaxRetryAttempts { get; init; } = 3;

    /// <summary>First retry delay; later ones grow exponentially with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Cap on a single retry delay.</summary>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Share of failed calls within <see cref="BreakerSamplingDuration"/> that opens the circuit (0 &lt; ratio ≤ 1).</summary>
    public double BreakerFailureRatio { get; init; } = 0.5;

    /// <summary>Calls needed within the sampling window before the ratio counts (at least 2).</summary>
    public int BreakerMinimumThroughput { get; init; } = 4;

    /// <summary>The window over which failures are counted.</summary>
    public TimeSpan BreakerSamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit fails calls fast before it lets one probe through.</summary>
    public TimeSpan BreakerBreakDuration { get; init; } = TimeSpan.FromSeconds(15);
}
