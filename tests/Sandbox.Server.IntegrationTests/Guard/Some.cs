using Sandbox.Guard.Agents;

namespace Sandbox.Server.IntegrationTests.Guard;

/// <summary>Test data for the guard's end-to-end tests: agents with unique names and tight caps, and bash run bodies.</summary>
internal static class Some
{
    /// <summary>A unique agent name, so tests sharing a service never see each other's agents, caps or audit records.</summary>
    public static string AgentName(string topic) => $"{topic}-{Guid.NewGuid():N}"[..Math.Min(64, topic.Length + 13)];

    /// <summary>An agent allowed <paramref name="profiles"/> (bash when none), with caps roomy enough not to be the subject of a test.</summary>
    public static AgentSpec Agent(string topic, params string[] profiles) => new()
    {
        Name = AgentName(topic),
        Profiles = profiles.Length == 0 ? ["bash"] : profiles,
        RatePerMinute = 1000,
        MaxConcurrentRuns = 4,
        DailyCpuSeconds = 600,
        DailyRuns = 1000,
    };

    /// <summary>A waited-for bash run.</summary>
    public static object Bash(string code, string purpose = "guard end-to-end test") => new { language = "bash", code, purpose };

    /// <summary>A bash run answered at once (202), to watch it while it runs.</summary>
    public static object BashAsync(string code, string purpose = "guard end-to-end test") => new { language = "bash", code, purpose, @async = true };

    /// <summary>Burns CPU until the CPU limit kills it.</summary>
    public const string BurnCpu = "while :; do :; done";
}
