using Sandbox.Core.Runs;

namespace Sandbox.Docker.Resilience;

/// <summary>Checks <see cref="DockerResilienceOptions"/> at start-up and reports every problem at once, mirroring Polly's own limits.</summary>
internal static class DockerResilienceOptionsValidator
{
    // Polly's TimeoutStrategyOptions accepts 10 ms to 24 h; its breaker needs at least 500 ms windows.
    private static readonly TimeSpan s_minTimeout = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan s_maxDuration = TimeSpan.FromDays(1);
    private static readonly TimeSpan s_minBreakerWindow = TimeSpan.FromMilliseconds(500);

    /// <param name="options">The options to check.</param>
    /// <param name="at">The configuration path of the options, used as the prefix of every field name.</param>
    public static IReadOnlyList<FieldError> Validate(DockerResilienceOptions options, string at = "Docker:Resilience")
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<FieldError>();
        if (options.CallTimeout < s_minTimeout || options.CallTimeout > s_maxDuration)
        {
            errors.Add(new($"{at}:CallTimeout", $"must be between 10 ms and 24 h (got {options.CallTimeout})"));
        }

        if (options.MaxRetryAttempts is < 0 or > 10)
        {
            errors.Add(new($"{at}:MaxRetryAttempts", $"must be 0 (no retry) to 10 (got {options.MaxRetryAttempts})"));
        }

        if (options.RetryBaseDelay < TimeSpan.Zero || options.RetryBaseDelay > s_maxDuration)
        {
            errors.Add(new($"{at}:RetryBaseDelay", $"must be between 0 and 24 h (got {options.RetryBaseDelay})"));
        }

        if (options.RetryMaxDelay < options.RetryBaseDelay || options.RetryMaxDelay > s_maxDuration)
        {
            errors.Add(new($"{at}:RetryMaxDelay", $"must be at least RetryBaseDelay and at most 24 h (got {options.RetryMaxDelay})"));
        }

        if (!(options.BreakerFailureRatio is > 0 and <= 1))
        {
            errors.Add(new($"{at}:BreakerFailureRatio", $"must be above 0 and at most 1 (got {options.BreakerFailureRatio})"));
        }

        if (options.BreakerMinimumThroughput < 2)
        {
            errors.Add(new($"{at}:BreakerMinimumThroughput", $"must be at least 2 (got {options.BreakerMinimumThroughput})"));
        }

        if (options.BreakerSamplingDuration < s_minBreakerWindow || options.BreakerSamplingDuration > s_maxDuration)
        {
            errors.Add(new($"{at}:BreakerSamplingDuration", $"must be between 500 ms and 24 h (got {options.BreakerSamplingDuration})"));
        }

        if (options.BreakerBreakDuration < s_minBreakerWindow || options.BreakerBreakDuration > s_maxDuration)
        {
            errors.Add(new($"{at}:BreakerBreakDuration", $"must be between 500 ms and 24 h (got {options.BreakerBreakDuration})"));
        }

        return errors;
    }
}
