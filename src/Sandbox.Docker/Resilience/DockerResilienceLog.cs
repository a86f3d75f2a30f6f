using Microsoft.Extensions.Logging;

namespace Sandbox.Docker.Resilience;

/// <summary>Source-generated log messages of the Docker resilience layer.</summary>
internal static partial class DockerResilienceLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Retrying {Endpoint} (retry {Attempt}) in {DelayMs} ms after a transient error: {Reason}")]
    public static partial void Retrying(ILogger logger, string endpoint, int attempt, double delayMs, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "Docker circuit opened for {BreakSeconds} s: calls fail fast until it probes again. Last error: {Reason}")]
    public static partial void CircuitOpened(ILogger logger, double breakSeconds, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Docker circuit half-open: letting one call through to probe the daemon")]
    public static partial void CircuitHalfOpened(ILogger logger);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Docker circuit closed: the daemon answers again")]
    public static partial void CircuitClosed(ILogger logger);
}
