using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Sandbox.Core.Runs;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Agents;

/// <summary>What an operator asks for when creating an agent.</summary>
public sealed record AgentSpec
{
    public required string Name { get; init; }

    public required IReadOnlyList<string> Profiles { get; init; }

    public int RatePerMinute { get; init; } = 60;

    public int MaxConcurrentRuns { get; init; } = 2;

    public double DailyCpuSeconds { get; init; } = 3600;

    public int DailyRuns { get; init; } = 1000;

    /// <summary>The sum of the memory limits of its open sessions at most, in MiB; 0 lets it open none.</summary>
    public int MaxSessionMemoryMb { get; init; } = Agent.DefaultSessionMemoryMb;

    /// <summary>Sessions open at once at most; 0 lets it open none.</summary>
    public int MaxOpenSessions { get; init; } = Agent.DefaultOpenSessions;

    /// <summary>What its runs may add to the store per UTC day at most, in MiB.</summary>
    public int DailyStoredMb { get; init; } = Agent.DefaultDailyStoredMb;

    /// <summary>How long the agent (and its key) lives.</summary>
    public TimeSpan ExpiresIn { get; init; } = TimeSpan.FromDays(90);
}

/// <summary>An agent with the plain key it was just given: the only time the key is ever shown.</summary>
public sealed record IssuedKey(Agent Agent, string Key, string KeyId);

/// <summary>
/// The operator's actions on agents and approvals, shared by <c>sandbox agents</c>/<c>sandbox approvals</c>
/// and the admin API so both validate and audit the same way. Each action and its audit record are
/// written in one transaction by the store.
/// </summary>
public sealed partial class AgentAdmin
{
    /// <summary>Agents live at most this long; a key that never expires is a key nobody remembers to rotate.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(366);

    /// <summary>
    /// Agents live at least this long: an agent is a standing identity, and one that expires within the hour (or, from
    /// a rounding slip such as 1e-9 days, at once) is a mistake; a short-lived credential is a task token.
    /// </summary>
    public static readonly TimeSpan MinLifetime = TimeSpan.FromHours(1);

    /// <summary>The highest <see cref="AgentSpec.MaxSessionMemoryMb"/> (1 TiB): past any host's memory, so a typo is caught.</summary>
    public const int MaxSessionMemoryMbLimit = 1024 * 1024;

    /// <summary>The highest <see cref="AgentSpec.MaxOpenSessions"/>: each is a container, so a typo of 10000 is caught.</summary>
    public const int MaxOpenSessionsLimit = 1000;

    /// <summary>The highest <see cref="AgentSpec.DailyStoredMb"/> (1 TiB a day): past any disk here, so a typo is caught.</summary>
    public const int DailyStoredMbLimit = 1024 * 1024;

    private readonly IGuardStore _store;
    private readonly TimeProvider _time;
    private readonly IReadOnlySet<string>? _knownProfiles;

    /// <param name="store">Where agents, keys and the audit chain live.</param>
    /// <param name="time">The clock for creation and expiry times.</param>
    /// <param name="knownProfiles">The profiles that exist; when given, an allow-list naming any other is refused.</param>
    public AgentAdmin(IGuardStore store, TimeProvider time, IReadOnlySet<string>? knownProfiles = null)
    {
        _store = store;
        _time = time;
        _knownProfiles = knownProfiles;
    }

    // ---- reads, for the admin API and the front ends' set-up (none of them touches the store itself) ----

    public Task<IReadOnlyList<Agent>> ListAgentsAsync(CancellationToken cancellationToken) => _store.ListAgentsAsync(cancellationToken);

    /// <summary>By id (<c>agt_…</c>) or by name.</summary>
    public Task<Agent?> FindAgentAsync(string idOrName, CancellationToken cancellationToken) => _store.FindAgentAsync(idOrName, cancellationToken);

    /// <summary>The agent's runs and CPU so far today (UTC), as its daily caps count them.</summary>
    public Task<Usage> UsageTodayAsync(string agentId, CancellationToken cancellationToken) =>
        _store.GetUsageAsync(agentId, Policy.CapLedger.Day(_time.GetUtcNow()), cancellationToken);

    /// <summary>The agent's keys and tokens, newest first.</summary>
    public Task<IReadOnlyList<Credential>> ListCredentialsAsync(string agentId, CancellationToken cancellationToken) => _store.ListCredentialsAsync(agentId, cancellationToken);

    /// <summary>Newest first; all states when <paramref name="state"/> is null.</summary>
    public Task<IReadOnlyList<Approval>> ListApprovalsAsync(ApprovalState? state, CancellationToken cancellationToken) => _store.ListApprovalsAsync(state, cancellationToken);

    public Task<IReadOnlyList<AuditRecord>> QueryAuditAsync(AuditQuery query, CancellationToken cancellationToken) => _store.QueryAuditAsync(query, cancellationToken);

    /// <summary>Walks the whole chain and checks each anchor is still in it.</summary>
    public Task<AuditVerification> VerifyAuditAsync(IReadOnlyCollection<AuditAnchor> anchors, CancellationToken cancellationToken) => _store.VerifyAuditAsync(anchors, cancellationToken);

    public async Task<AdminResult<IssuedKey>> CreateAsync(AgentSpec spec, string actor, CancellationToken cancellationToken)
    {
        if (Validate(spec) is { Count: > 0 } errors)
        {
            return AdminResult<IssuedKey>.Invalid(errors);
        }

        var now = _time.GetUtcNow();
        var agent = new Agent
        {
            Id = AgentKeys.NewId("agt_"),
            Name = spec.Name,
            Profiles = spec.Profiles.Distinct(StringComparer.Ordinal).ToList(),
            RatePerMinute = spec.RatePerMinute,
            MaxConcurrentRuns = spec.MaxConcurrentRuns,
            DailyCpuSeconds = spec.DailyCpuSeconds,
            DailyRuns = spec.DailyRuns,
            MaxSessionMemoryMb = spec.MaxSessionMemoryMb,
            MaxOpenSessions = spec.MaxOpenSessions,
            DailyStoredMb = spec.DailyStoredMb,
            CreatedAt = now,
            ExpiresAt = now + spec.ExpiresIn,
        };
        var (plain, keyId, hash) = AgentKeys.Generate(CredentialKind.AgentKey);
        var key = new Credential { Id = keyId, AgentId = agent.Id, Kind = CredentialKind.AgentKey, SecretSha256 = hash, CreatedAt = now, ExpiresAt = agent.ExpiresAt };
        var created = Describe(agent);
        created["keyId"] = keyId;
        var audit = Admin(agent.Id, "agent_created", actor, created);
        if (!await _store.CreateAgentAsync(agent, key, audit, cancellationToken))
        {
            return AdminResult<IssuedKey>.Conflict($"an agent named '{spec.Name}' already exists; choose another name, or rotate its key");
        }

        return AdminResult<IssuedKey>.Success(new IssuedKey(agent, plain, keyId));
    }

    public async Task<AdminResult<IssuedKey>> RotateAsync(string idOrName, string actor, CancellationToken cancellationToken)
    {
        if (await _store.FindAgentAsync(idOrName, cancellationToken) is not { } agent)
        {
            return AdminResult<IssuedKey>.NotFound(UnknownAgent(idOrName));
        }

        if (agent.RevokedAt is not null)
        {
            return AdminResult<IssuedKey>.Conflict($"agent '{agent.Name}' was revoked; a revoked agent gets no new key (create a new agent)");
        }

        var now = _time.GetUtcNow();
        var (plain, keyId, hash) = AgentKeys.Generate(CredentialKind.AgentKey);
        var key = new Credential { Id = keyId, AgentId = agent.Id, Kind = CredentialKind.AgentKey, SecretSha256 = hash, CreatedAt = now, ExpiresAt = agent.ExpiresAt };
        var audit = Admin(agent.Id, "key_rotated", actor, new JsonObject { ["keyId"] = keyId });
        return await _store.RotateKeyAsync(agent.Id, key, audit, cancellationToken)
            ? AdminResult<IssuedKey>.Success(new IssuedKey(agent, plain, keyId))
            : AdminResult<IssuedKey>.Conflict($"agent '{agent.Name}' changed while rotating; try again");
    }

    public async Task<AdminResult<Agent>> RevokeAsync(string idOrName, string? reason, string actor, CancellationToken cancellationToken)
    {
        if (await _store.FindAgentAsync(idOrName, cancellationToken) is not { } agent)
        {
            return AdminResult<Agent>.NotFound(UnknownAgent(idOrName));
        }

        if (agent.RevokedAt is not null)
        {
            return AdminResult<Agent>.Conflict($"agent '{agent.Name}' was already revoked at {agent.RevokedAt:u}");
        }

        reason = string.IsNullOrWhiteSpace(reason) ? "revoked by an operator" : reason.Trim();
        var audit = Admin(agent.Id, "agent_revoked", actor, new JsonObject { ["reason"] = reason });
        if (!await _store.RevokeAgentAsync(agent.Id, _time.GetUtcNow(), reason, audit, cancellationToken))
        {
            return AdminResult<Agent>.Conflict($"agent '{agent.Name}' was already revoked");
        }

        return AdminResult<Agent>.Success((await _store.FindAgentAsync(agent.Id, cancellationToken))!);
    }

    /// <summary>Puts an agent under approval (every run waits for a human), or clears that.</summary>
    public async Task<AdminResult<Agent>> SetUnderApprovalAsync(string idOrName, bool underApproval, string? reason, string actor, CancellationToken cancellationToken)
    {
        if (await _store.FindAgentAsync(idOrName, cancellationToken) is not { } agent)
        {
            return AdminResult<Agent>.NotFound(UnknownAgent(idOrName));
        }

        if (agent.RevokedAt is not null)
        {
            // Nothing to hold or release: a revoked agent runs nothing, and a record saying otherwise would mislead whoever reads the log.
            return AdminResult<Agent>.Conflict($"agent '{agent.Name}' was revoked at {agent.RevokedAt:u}; it runs nothing, so there is nothing to hold or release");
        }

        reason = underApproval ? (string.IsNullOrWhiteSpace(reason) ? "put under approval by an operator" : reason.Trim()) : null;
        var audit = Admin(agent.Id, underApproval ? "approval_hold_set" : "approval_hold_cleared", actor, new JsonObject { ["reason"] = reason });
        await _store.SetUnderApprovalAsync(agent.Id, underApproval, reason, audit, cancellationToken);
        return AdminResult<Agent>.Success((await _store.FindAgentAsync(agent.Id, cancellationToken))!);
    }

    /// <summary>Approves or denies a pending run; who and when go into the audit log with the decision.</summary>
    public async Task<AdminResult<Approval>> DecideAsync(string approvalId, bool approve, string actor, string? note, CancellationToken cancellationToken)
    {
        if (await _store.FindApprovalAsync(approvalId, cancellationToken) is not { } approval)
        {
            return AdminResult<Approval>.NotFound($"no approval '{approvalId}'; `sandbox approvals list` shows the pending ones");
        }

        if (approval.State != ApprovalState.Pending)
        {
            return AdminResult<Approval>.Conflict($"approval {approval.Id} is already {ApprovalStates.Name(approval.State)}{(approval.DecidedBy is { } by ? $" (by {by} at {approval.DecidedAt:u})" : "")}");
        }

        var now = _time.GetUtcNow();
        if (approve && now >= approval.ExpiresAt)
        {
            // Too late to say yes: the run is being rejected as expired, and a stale yes must not start it.
            return AdminResult<Approval>.Conflict($"approval {approval.Id} expired at {approval.ExpiresAt:u}; the agent must submit the run again");
        }

        var decision = approve ? ApprovalState.Approved : ApprovalState.Denied;
        var audit = new AuditEntry
        {
            Kind = AuditKinds.Approval,
            AgentId = approval.AgentId,
            RunId = approval.RunId,
            Status = ApprovalStates.Name(decision),
            Data = new JsonObject { ["approvalId"] = approval.Id, ["by"] = actor, ["at"] = AuditChain.FormatTime(now), ["note"] = note },
        };
        return await _store.DecideApprovalAsync(approval.Id, decision, actor, note, now, audit, cancellationToken) is { } decided
            ? AdminResult<Approval>.Success(decided)
            : AdminResult<Approval>.Conflict($"approval {approval.Id} was decided by someone else just now");
    }

    public IReadOnlyList<FieldError> Validate(AgentSpec spec)
    {
        var errors = new List<FieldError>();
        if (!NamePattern().IsMatch(spec.Name ?? ""))
        {
            errors.Add(new FieldError("name", "use 1 to 64 of a-z, 0-9, '-', '_' and '.', starting with a letter or digit"));
        }

        if (spec.Profiles is not { Count: > 0 })
        {
            errors.Add(new FieldError("profiles", "list at least one profile; an agent may use only the profiles it lists"));
        }
        else if (_knownProfiles is not null && spec.Profiles.Where(p => !_knownProfiles.Contains(p)).ToList() is { Count: > 0 } unknown)
        {
            errors.Add(new FieldError("profiles", $"unknown profile(s) {string.Join(", ", unknown)}; known: {string.Join(", ", _knownProfiles.Order(StringComparer.Ordinal))}"));
        }

        if (spec.RatePerMinute is < 1 or > 100_000)
        {
            errors.Add(new FieldError("ratePerMinute", $"is {spec.RatePerMinute}; use 1 to 100000"));
        }

        if (spec.MaxConcurrentRuns is < 1 or > 1024)
        {
            errors.Add(new FieldError("maxConcurrentRuns", $"is {spec.MaxConcurrentRuns}; use 1 to 1024"));
        }

        if (!(spec.DailyCpuSeconds > 0 && spec.DailyCpuSeconds <= 86_400 * 1024))
        {
            errors.Add(new FieldError("dailyCpuSeconds", $"is {spec.DailyCpuSeconds}; use a positive number of seconds"));
        }

        if (spec.DailyRuns is < 1 or > 10_000_000)
        {
            errors.Add(new FieldError("dailyRuns", $"is {spec.DailyRuns}; use 1 to 10000000"));
        }

        if (spec.MaxSessionMemoryMb is < 0 or > MaxSessionMemoryMbLimit)
        {
            errors.Add(new FieldError("maxSessionMemoryMb", $"is {spec.MaxSessionMemoryMb}; use 0 (no sessions) to {MaxSessionMemoryMbLimit} MiB"));
        }

        if (spec.MaxOpenSessions is < 0 or > MaxOpenSessionsLimit)
        {
            errors.Add(new FieldError("maxOpenSessions", $"is {spec.MaxOpenSessions}; use 0 (no sessions) to {MaxOpenSessionsLimit}"));
        }

        if (spec.DailyStoredMb is < 1 or > DailyStoredMbLimit)
        {
            errors.Add(new FieldError("dailyStoredMb", $"is {spec.DailyStoredMb}; use 1 to {DailyStoredMbLimit} MiB a day"));
        }

        if (spec.ExpiresIn < MinLifetime || spec.ExpiresIn > MaxLifetime)
        {
            errors.Add(new FieldError("expiresIn", $"is {spec.ExpiresIn}; use at least {MinLifetime.TotalHours:0} hour and at most {MaxLifetime.TotalDays:0} days (for less, mint a task token)"));
        }

        return errors;
    }

    public static JsonObject Describe(Agent agent) => new()
    {
        ["name"] = agent.Name,
        ["profiles"] = new JsonArray(agent.Profiles.Select(p => (JsonNode?)JsonValue.Create(p)).ToArray()),
        ["ratePerMinute"] = agent.RatePerMinute,
        ["maxConcurrentRuns"] = agent.MaxConcurrentRuns,
        ["dailyCpuSeconds"] = agent.DailyCpuSeconds,
        ["dailyRuns"] = agent.DailyRuns,
        ["maxSessionMemoryMb"] = agent.MaxSessionMemoryMb,
        ["maxOpenSessions"] = agent.MaxOpenSessions,
        ["dailyStoredMb"] = agent.DailyStoredMb,
        ["expiresAt"] = AuditChain.FormatTime(agent.ExpiresAt),
    };

    private static AuditEntry Admin(string agentId, string action, string actor, JsonObject data)
    {
        data["actor"] = actor;
        return new AuditEntry { Kind = AuditKinds.Admin, AgentId = agentId, Status = action, Data = data };
    }

    private static string UnknownAgent(string idOrName) => $"no agent '{idOrName}'; `sandbox agents list` shows them";

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();
}

/// <summary>Wire names of <see cref="ApprovalState"/>.</summary>
public static class ApprovalStates
{
    public static string Name(ApprovalState state) => state switch
    {
        ApprovalState.Pending => "pending",
        ApprovalState.Approved => "approved",
        ApprovalState.Denied => "denied",
        ApprovalState.Expired => "expired",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };
}
