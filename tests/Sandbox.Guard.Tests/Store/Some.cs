using System.Text.Json.Nodes;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;

namespace Sandbox.Guard.Tests.Store;

/// <summary>Store test data with sensible defaults; each test states only what matters to it.</summary>
internal static class Some
{
    // A non-zero offset on purpose: the store keeps UTC, and the instant must survive the round trip.
    public static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 30, 15, TimeSpan.FromHours(2));

    public static Agent Agent(string name = "ci-bot") => new()
    {
        Id = AgentKeys.NewId("agt_"),
        Name = name,
        Profiles = ["python", "node"],
        RatePerMinute = 30,
        MaxConcurrentRuns = 2,
        DailyCpuSeconds = 3600.5,
        DailyRuns = 500,
        MaxSessionMemoryMb = 777,
        MaxOpenSessions = 7,
        DailyStoredMb = 333,
        CreatedAt = Now.AddTicks(1234567),
        ExpiresAt = Now.AddDays(90),
    };

    public static Credential Key(Agent agent, DateTimeOffset? createdAt = null) => new()
    {
        Id = AgentKeys.Generate(CredentialKind.AgentKey).Id,
        AgentId = agent.Id,
        Kind = CredentialKind.AgentKey,
        SecretSha256 = AgentKeys.Generate(CredentialKind.AgentKey).SecretSha256,
        CreatedAt = createdAt ?? agent.CreatedAt,
        ExpiresAt = agent.ExpiresAt,
    };

    public static Credential Token(Agent agent, DateTimeOffset? createdAt = null) => new()
    {
        Id = AgentKeys.Generate(CredentialKind.TaskToken).Id,
        AgentId = agent.Id,
        Kind = CredentialKind.TaskToken,
        SecretSha256 = AgentKeys.Generate(CredentialKind.TaskToken).SecretSha256,
        CreatedAt = createdAt ?? agent.CreatedAt.AddMinutes(1),
        ExpiresAt = agent.CreatedAt.AddHours(1),
        Profiles = ["python"],
        MaxRuns = 10,
        CpuSeconds = 60.25,
        Purpose = "nightly report",
    };

    public static Approval Approval(Agent agent, DateTimeOffset? createdAt = null) => new()
    {
        Id = AgentKeys.NewId("apr_"),
        RunId = "run_" + Guid.NewGuid().ToString("N"),
        AgentId = agent.Id,
        AgentName = agent.Name,
        Profile = "python",
        Language = "python",
        CodeSha256 = new string('a', 64),
        Code = "print('hello')",
        Purpose = "check the build",
        Reason = "profile python requires approval",
        CreatedAt = createdAt ?? Now,
        ExpiresAt = (createdAt ?? Now).AddHours(1),
    };

    public static AuditEntry Admin(string action, string? agentId = null) => new()
    {
        Kind = AuditKinds.Admin,
        AgentId = agentId,
        Status = action,
        Data = new JsonObject { ["action"] = action, ["by"] = "operator" },
    };

    public static AuditEntry Entry(string kind = AuditKinds.Request, string? runId = null, string? status = null, string? agentId = "agt_0000000000000000") => new()
    {
        Kind = kind,
        AgentId = agentId,
        RunId = runId,
        Status = status,
        Data = new JsonObject { ["note"] = "ünïcode <and> \"quotes\"", ["n"] = 42 },
    };

    /// <summary>A plan for the python profile with small limits (the policy tests' run), for <paramref name="request"/>.</summary>
    public static RunPlan Plan(RunRequest request, bool requiresApproval = false)
    {
        var limits = new ResourceLimits
        {
            WallTimeMs = 10_000,
            CpuTimeMs = 1_000,
            MemoryBytes = 64L * 1024 * 1024,
            Pids = 16,
            StdoutBytes = 64 * 1024,
            StderrBytes = 64 * 1024,
            FileSizeBytes = 1024 * 1024,
            TmpBytes = 1024 * 1024,
        };
        return new RunPlan
        {
            RunId = "run_" + Guid.NewGuid().ToString("N")[..12],
            Request = request,
            Profile = new Profile { Name = "python", Language = "python", Backend = BackendNames.Docker, Image = "sandbox/python:latest", SourceFile = "main.py", Limits = limits, RequiresApproval = requiresApproval },
            Limits = limits,
            Runtime = RuntimeNames.Runc,
        };
    }
}
