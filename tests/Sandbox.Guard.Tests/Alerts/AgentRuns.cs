using System.Security.Cryptography;
using System.Text;
using Sandbox.Guard.Alerts;

namespace Sandbox.Guard.Tests.Alerts;

/// <summary>Builds one agent's observations on a fixed timeline: times are offsets from <see cref="Start"/>.</summary>
internal sealed class AgentRuns(string agentId = "agt_ci", string agentName = "ci-bot")
{
    public static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private int _runs;

    public string AgentId => agentId;

    public string LastRunId => $"run_{agentId}_{_runs}";

    public static string Sha(string code) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(code)));

    public RunObservation Admitted(TimeSpan at, string code = "print('hi')") =>
        new(agentId, agentName, NextRunId(), Sha(code), Start + at, Status: null);

    public RunObservation Completed(TimeSpan at, string status) =>
        new(agentId, agentName, NextRunId(), Sha("print('hi')"), Start + at, status);

    private string NextRunId() => $"run_{agentId}_{++_runs}";
}

/// <summary>Thresholds small enough to reach in a few lines, with every detector's window distinct.</summary>
internal static class SomeAlertOptions
{
    public static AlertOptions Small() => new()
    {
        Cooldown = TimeSpan.FromMinutes(5),
        LoopThreshold = 3,
        LoopWindow = TimeSpan.FromMinutes(10),
        FailureStreakThreshold = 3,
        SpikeWindow = TimeSpan.FromMinutes(1),
        SpikeBaselineWindow = TimeSpan.FromMinutes(10),
        SpikeFactor = 4,
        SpikeMinRuns = 5,
    };
}

internal static class AlertListExtensions
{
    public static Alert[] Of(this IEnumerable<Alert> alerts, string detector) => alerts.Where(a => a.Detector == detector).ToArray();
}
