using Microsoft.Extensions.Logging;

namespace Sandbox.Guard.Alerts;

/// <summary>Source-generated log messages of <see cref="WebhookAlertSink"/>. The target is the webhook's scheme, host and port only: its path often carries a secret token.</summary>
internal static partial class WebhookAlertSinkLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Alert queue for webhook {Target} is full ({Capacity}): dropped the oldest alert, {Detector} for agent {AgentId}")]
    public static partial void Dropped(ILogger logger, string target, int capacity, string detector, string agentId);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Webhook {Target}: attempt {Attempt} failed ({Reason}); retrying in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, string target, int attempt, string reason, double delayMs);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Webhook {Target}: gave up on the {Detector} alert for agent {AgentId} after {Attempts} attempt(s): {Reason}")]
    public static partial void Failed(ILogger logger, string target, string detector, string agentId, int attempts, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Webhook {Target}: delivered the {Detector} alert for agent {AgentId}")]
    public static partial void Delivered(ILogger logger, string target, string detector, string agentId);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Webhook {Target}: {Count} alert(s) still undelivered after {Seconds} s of shutdown; dropped")]
    public static partial void Undelivered(ILogger logger, string target, int count, double seconds);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Webhook {Target}: the sink is closed; dropped the {Detector} alert for agent {AgentId}")]
    public static partial void Closed(ILogger logger, string target, string detector, string agentId);
}
