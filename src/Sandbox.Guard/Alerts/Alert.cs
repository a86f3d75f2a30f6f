using System.Text.Json.Nodes;

namespace Sandbox.Guard.Alerts;

/// <summary>One run as the detectors see it: at admission (<see cref="Status"/> null) or at completion.</summary>
public sealed record RunObservation(string AgentId, string AgentName, string RunId, string CodeSha256, DateTimeOffset At, string? Status);

/// <summary>A detector fired for an agent. <see cref="Detector"/> is <c>loop</c>, <c>failure_streak</c> or <c>rate_spike</c>.</summary>
public sealed record Alert
{
    public required string Detector { get; init; }

    public required string AgentId { get; init; }

    public required string AgentName { get; init; }

    /// <summary>One sentence a person can act on, such as "agent ci-bot ran the same code 5 times in 10 min".</summary>
    public required string Summary { get; init; }

    public required DateTimeOffset At { get; init; }

    /// <summary>The numbers behind it: counts, window, threshold, the code hash, the run that tipped it.</summary>
    public JsonObject Details { get; init; } = [];
}

/// <summary>Where alerts go besides the audit log and the log file.</summary>
public interface IAlertSink
{
    /// <summary>Hands the alert over without waiting for delivery: a slow webhook must never slow a run.</summary>
    void Publish(Alert alert);
}
