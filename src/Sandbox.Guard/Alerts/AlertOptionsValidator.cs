using Sandbox.Core.Runs;

namespace Sandbox.Guard.Alerts;

/// <summary>Checks <see cref="AlertOptions"/> at start-up and reports every problem at once, each naming its field and the fix.</summary>
internal static class AlertOptionsValidator
{
    // Longer windows buy nothing: history is capped per agent (RunDetectors.MaxHistoryPerAgent), and a week keeps
    // DateTimeOffset arithmetic far from its limits.
    private static readonly TimeSpan s_maxDuration = TimeSpan.FromDays(7);

    /// <summary>Every field, the webhook URL included.</summary>
    /// <param name="options">The options to check.</param>
    /// <param name="at">The configuration path of the options, used as the prefix of every field name.</param>
    public static IReadOnlyList<FieldError> Validate(AlertOptions options, string at = GuardOptions.Section + ":Alerts")
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<FieldError>();
        if (!string.IsNullOrWhiteSpace(options.WebhookUrl) && WebhookAlertSink.ValidateUrl(options.WebhookUrl) is { } problem)
        {
            errors.Add(new($"{at}:WebhookUrl", problem + "; leave it unset to send alerts only to the audit log and the log file"));
        }

        errors.AddRange(ValidateDetectors(options, at));
        return errors;
    }

    /// <summary>The thresholds and windows <see cref="RunDetectors"/> uses, without the webhook URL.</summary>
    public static IReadOnlyList<FieldError> ValidateDetectors(AlertOptions options, string at = GuardOptions.Section + ":Alerts")
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<FieldError>();
        if (options.Cooldown < TimeSpan.Zero || options.Cooldown > s_maxDuration)
        {
            errors.Add(new($"{at}:Cooldown", $"must be between 0 (no cooldown) and 7 days (got {options.Cooldown})"));
        }

        if (options.LoopThreshold < 2)
        {
            errors.Add(new($"{at}:LoopThreshold", $"must be at least 2: a threshold of 1 would flag every run (got {options.LoopThreshold})"));
        }

        CheckWindow(errors, $"{at}:LoopWindow", options.LoopWindow);
        if (options.FailureStreakThreshold < 1)
        {
            errors.Add(new($"{at}:FailureStreakThreshold", $"must be at least 1 (got {options.FailureStreakThreshold})"));
        }

        CheckWindow(errors, $"{at}:SpikeWindow", options.SpikeWindow);
        CheckWindow(errors, $"{at}:SpikeBaselineWindow", options.SpikeBaselineWindow);
        if (options.SpikeBaselineWindow < options.SpikeWindow)
        {
            errors.Add(new($"{at}:SpikeBaselineWindow",
                $"must be at least SpikeWindow ({options.SpikeWindow}): an average over less than one window is noise (got {options.SpikeBaselineWindow})"));
        }

        if (!double.IsFinite(options.SpikeFactor) || options.SpikeFactor <= 1)
        {
            errors.Add(new($"{at}:SpikeFactor", $"must be a number above 1: at 1 or below, an agent's steady pace counts as a spike (got {options.SpikeFactor})"));
        }

        if (options.SpikeMinRuns < 1)
        {
            errors.Add(new($"{at}:SpikeMinRuns", $"must be at least 1 (got {options.SpikeMinRuns})"));
        }

        return errors;
    }

    private static void CheckWindow(List<FieldError> errors, string field, TimeSpan window)
    {
        if (window <= TimeSpan.Zero || window > s_maxDuration)
        {
            errors.Add(new(field, $"must be above 0 and at most 7 days (got {window})"));
        }
    }
}
