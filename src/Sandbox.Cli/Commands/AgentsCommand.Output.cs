using System.Globalization;
using System.Text.Json.Nodes;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Store;
using static Sandbox.Cli.Commands.GuardCommandSupport;

namespace Sandbox.Cli.Commands;

/// <summary>How agents, keys and credentials are printed, as text and as JSON. Secrets' hashes are never printed.</summary>
internal static partial class AgentsCommand
{
    public static string State(Agent agent, DateTimeOffset now) =>
        agent.RevokedAt is not null ? "revoked"
        : now >= agent.ExpiresAt ? "expired"
        : agent.UnderApproval ? "under-approval"
        : "active";

    public static JsonObject AgentJson(Agent agent, DateTimeOffset now) => new()
    {
        ["id"] = agent.Id,
        ["name"] = agent.Name,
        ["state"] = State(agent, now),
        ["profiles"] = JsonList(agent.Profiles),
        ["ratePerMinute"] = agent.RatePerMinute,
        ["maxConcurrentRuns"] = agent.MaxConcurrentRuns,
        ["dailyCpuSeconds"] = agent.DailyCpuSeconds,
        ["dailyRuns"] = agent.DailyRuns,
        ["maxSessionMemoryMb"] = agent.MaxSessionMemoryMb,
        ["maxOpenSessions"] = agent.MaxOpenSessions,
        ["dailyStoredMb"] = agent.DailyStoredMb,
        ["createdAt"] = Json(agent.CreatedAt),
        ["expiresAt"] = Json(agent.ExpiresAt),
        ["revokedAt"] = Json(agent.RevokedAt),
        ["revokedReason"] = agent.RevokedReason,
        ["underApproval"] = agent.UnderApproval,
        ["underApprovalReason"] = agent.UnderApprovalReason,
    };

    private static async Task WriteIssuedKeyAsync(IssuedKey issued, bool created, bool json)
    {
        var agent = issued.Agent;
        if (json)
        {
            var node = AgentJson(agent, agent.CreatedAt);
            node["keyId"] = issued.KeyId;
            node["key"] = issued.Key;
            await WriteJsonAsync(node);
            return;
        }

        var output = Console.Out;
        if (created)
        {
            await output.WriteLineAsync($"created agent {agent.Name} ({agent.Id})");
            await output.WriteLineAsync($"  profiles: {string.Join(", ", agent.Profiles)}");
            await output.WriteLineAsync(Caps(agent));
            await output.WriteLineAsync($"  expires:  {Human(agent.ExpiresAt)}");
        }
        else
        {
            await output.WriteLineAsync($"rotated the key of agent {agent.Name} ({agent.Id}); its previous key no longer works");
        }

        await output.WriteLineAsync();
        await output.WriteLineAsync($"  key: {issued.Key}");
        await output.WriteLineAsync();
        await output.WriteLineAsync($"This key will not be shown again: only its hash is stored. Keep it in a secret store now; `sandbox agents rotate {agent.Name}` issues a new one.");
    }

    private static async Task WriteAgentListAsync(IReadOnlyList<Agent> agents, DateTimeOffset now, bool json)
    {
        if (json)
        {
            await WriteJsonAsync(new JsonArray(agents.Select(a => (JsonNode?)AgentJson(a, now)).ToArray()));
            return;
        }

        if (agents.Count == 0)
        {
            await Console.Out.WriteLineAsync("no agents yet; create one with `sandbox agents create NAME --profile PROFILE`");
            return;
        }

        await Console.Out.WriteLineAsync($"{"NAME",-24} {"ID",-20} {"STATE",-14} {"RATE/MIN",8} {"CONC",4} {"CPU S/DAY",9} {"RUNS/DAY",8}  {"EXPIRES",-20}  PROFILES");
        foreach (var a in agents.OrderBy(a => a.Name, StringComparer.Ordinal))
        {
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{a.Name,-24} {a.Id,-20} {State(a, now),-14} {a.RatePerMinute,8} {a.MaxConcurrentRuns,4} {a.DailyCpuSeconds,9:0.##} {a.DailyRuns,8}  {Human(a.ExpiresAt),-20}  {string.Join(",", a.Profiles)}"));
        }
    }

    private static async Task WriteAgentDetailAsync(Agent agent, IReadOnlyList<Credential> credentials, string day, Usage usage, DateTimeOffset now, bool json)
    {
        if (json)
        {
            var node = AgentJson(agent, now);
            node["credentials"] = new JsonArray(credentials.Select(c => (JsonNode?)CredentialJson(c)).ToArray());
            node["usageToday"] = new JsonObject { ["day"] = day, ["runs"] = usage.Runs, ["cpuSeconds"] = usage.CpuMs / 1000.0 };
            await WriteJsonAsync(node);
            return;
        }

        var output = Console.Out;
        await output.WriteLineAsync($"agent {agent.Name} ({agent.Id})");
        await output.WriteLineAsync($"  state:    {State(agent, now)}");
        await output.WriteLineAsync($"  profiles: {string.Join(", ", agent.Profiles)}");
        await output.WriteLineAsync(Caps(agent));
        await output.WriteLineAsync($"  created:  {Human(agent.CreatedAt)}");
        await output.WriteLineAsync($"  expires:  {Human(agent.ExpiresAt)}");
        if (agent.RevokedAt is { } revokedAt)
        {
            await output.WriteLineAsync($"  revoked:  {Human(revokedAt)}: {TerminalText.Safe(agent.RevokedReason)}");
        }

        if (agent.UnderApproval)
        {
            await output.WriteLineAsync($"  under approval: {TerminalText.Safe(agent.UnderApprovalReason)}");
        }

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"  today ({day} UTC): {usage.Runs} of {agent.DailyRuns} runs, {usage.CpuMs / 1000.0:0.###} of {agent.DailyCpuSeconds:0.##} CPU seconds"));
        await output.WriteLineAsync();
        if (credentials.Count == 0)
        {
            await output.WriteLineAsync("no credentials");
            return;
        }

        await output.WriteLineAsync($"{"CREDENTIAL",-14} {"KIND",-10} {"CREATED",-20}  {"EXPIRES",-20}  {"REVOKED",-20}  PURPOSE");
        foreach (var c in credentials)
        {
            await output.WriteLineAsync($"{c.Id,-14} {KindName(c.Kind),-10} {Human(c.CreatedAt),-20}  {Human(c.ExpiresAt),-20}  {Human(c.RevokedAt),-20}  {TerminalText.Preview(c.Purpose, 60)}".TrimEnd());
        }
    }

    private static string Caps(Agent agent) => string.Create(CultureInfo.InvariantCulture,
        $"  caps:     {agent.RatePerMinute} runs/min, {agent.MaxConcurrentRuns} at once, {agent.DailyRuns} runs/day, {agent.DailyCpuSeconds:0.##} CPU s/day, {agent.DailyStoredMb} MiB stored/day, {agent.MaxOpenSessions} sessions within {agent.MaxSessionMemoryMb} MiB");

    /// <summary>Everything about a credential except its secret's hash.</summary>
    private static JsonObject CredentialJson(Credential credential) => new()
    {
        ["id"] = credential.Id,
        ["kind"] = KindName(credential.Kind),
        ["createdAt"] = Json(credential.CreatedAt),
        ["expiresAt"] = Json(credential.ExpiresAt),
        ["revokedAt"] = Json(credential.RevokedAt),
        ["profiles"] = credential.Profiles is { } profiles ? JsonList(profiles) : null,
        ["maxRuns"] = credential.MaxRuns,
        ["cpuSeconds"] = credential.CpuSeconds,
        ["purpose"] = credential.Purpose,
    };

    private static string KindName(CredentialKind kind) => kind switch
    {
        CredentialKind.AgentKey => "agent_key",
        CredentialKind.TaskToken => "task_token",
        _ => kind.ToString(),
    };
}
