using Microsoft.Extensions.Logging;
using Sandbox.Core.Runs;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Policy;

/// <summary>Task tokens: narrower than the agent's key that mints them, capped per agent per hour, each audited.</summary>
public sealed partial class TokenMinter
{
    /// <summary>Task tokens live at most an hour: long enough for one task, short enough that a leaked one soon dies.</summary>
    public static readonly TimeSpan MaxTokenLifetime = TimeSpan.FromHours(1);

    private readonly IGuardStore _store;
    private readonly GuardOptions _options;
    private readonly CapLedger _ledger;
    private readonly RefusalAudit _refusals;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public TokenMinter(IGuardStore store, GuardOptions options, CapLedger ledger, RefusalAudit refusals, TimeProvider time, ILogger logger)
    {
        _refusals = refusals;
        _store = store;
        _options = options;
        _ledger = ledger;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Mints a task token narrower than the agent's key: a subset of its profiles, at most an hour (and
    /// never past the agent's expiry), and its own budget no larger than the agent's daily one. Asking for
    /// more than the parent has is refused; a token cannot mint tokens; past <see cref="GuardOptions.TokensPerAgentPerHour"/>
    /// an agent's mints are throttled.
    /// </summary>
    public async Task<TokenOutcome> MintTokenAsync(Principal parent, TokenSpec spec, CancellationToken cancellationToken)
    {
        var agent = parent.Agent;
        if (parent.IsTaskToken)
        {
            return TokenOutcome.Refused(403, [new FieldError("authorization", "a task token cannot mint tokens; use the agent's own key")]);
        }

        var errors = new List<FieldError>();
        var exceeds = new List<FieldError>();
        var profiles = spec.Profiles ?? agent.Profiles;
        if (profiles.Count == 0)
        {
            errors.Add(new FieldError("profiles", "list at least one profile"));
        }

        // The list is the caller's: more distinct names than the allow-list holds is one error, not one per name, so a
        // request near the body cap cannot make an error (and a line of the audited reason) per entry.
        var named = profiles.Distinct(StringComparer.Ordinal).ToList();
        if (named.Count > agent.Profiles.Count)
        {
            exceeds.Add(new FieldError("profiles", $"names {named.Count} profiles; agent '{agent.Name}' may run {agent.Profiles.Count} ({string.Join(", ", agent.Profiles)}), and a token may only narrow that"));
        }

        foreach (var profile in named.Count > agent.Profiles.Count ? [] : named.Where(p => !agent.Profiles.Contains(p, StringComparer.Ordinal)))
        {
            exceeds.Add(new FieldError("profiles", $"'{profile}' is not on agent '{agent.Name}''s allow-list ({string.Join(", ", agent.Profiles)}); a token may only narrow it"));
        }

        var now = _time.GetUtcNow();
        var ttl = spec.TtlSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromMinutes(15);
        if (spec.TtlSeconds is <= 0)
        {
            errors.Add(new FieldError("ttlSeconds", $"is {spec.TtlSeconds}; use 1 to {MaxTokenLifetime.TotalSeconds:0}"));
        }
        else if (ttl > MaxTokenLifetime)
        {
            exceeds.Add(new FieldError("ttlSeconds", $"is {spec.TtlSeconds}; a task token lives at most {MaxTokenLifetime.TotalSeconds:0} s"));
        }

        var maxRuns = spec.MaxRuns ?? Math.Min(100, agent.DailyRuns);
        if (maxRuns < 1)
        {
            errors.Add(new FieldError("maxRuns", $"is {maxRuns}; use at least 1"));
        }
        else if (maxRuns > agent.DailyRuns)
        {
            exceeds.Add(new FieldError("maxRuns", $"is {maxRuns}, more than the agent's {agent.DailyRuns} runs a day"));
        }

        var cpuSeconds = spec.CpuSeconds ?? Math.Min(60, agent.DailyCpuSeconds);
        if (!(cpuSeconds > 0))
        {
            errors.Add(new FieldError("cpuSeconds", $"is {cpuSeconds}; use a positive number"));
        }
        else if (cpuSeconds > agent.DailyCpuSeconds)
        {
            exceeds.Add(new FieldError("cpuSeconds", $"is {cpuSeconds}, more than the agent's {agent.DailyCpuSeconds} CPU seconds a day"));
        }

        if (spec.Purpose is { } purpose && purpose.Length > _options.MaxPurposeLength)
        {
            errors.Add(new FieldError("purpose", $"is {purpose.Length} characters; the most is {_options.MaxPurposeLength}"));
        }

        if (errors.Count > 0)
        {
            return TokenOutcome.Refused(400, errors);
        }

        // Minting has its own cap: each token is a credential row and an audit record, so an agent must not be able to mint without bound.
        using (await _ledger.LockAsync(agent.Id, cancellationToken))
        {
            if (_ledger.MintRetryAfter(agent.Id, _options.TokensPerAgentPerHour, now) is { } retryAfter)
            {
                var reason = $"agent '{agent.Name}' minted {_options.TokensPerAgentPerHour} task tokens in the last hour, its cap; reuse a token or retry in {retryAfter} s";
                if (await RecordRefusalAsync(AuditRecords.MintRefused(agent, "throttled", reason, CapNames.TokenMintRate), "cap_exceeded:" + CapNames.TokenMintRate, cancellationToken))
                {
                    Log.Throttled(_logger, agent.Name, CapNames.TokenMintRate);
                }

                return TokenOutcome.Refused(429, [new FieldError("authorization", reason)]) with { Cap = CapNames.TokenMintRate, RetryAfterSeconds = retryAfter };
            }

            if (exceeds.Count > 0)
            {
                await RecordRefusalAsync(AuditRecords.MintRefused(agent, "rejected", string.Join("; ", exceeds.Select(e => e.ToString())), cap: null), "mint_rejected", cancellationToken);
                return TokenOutcome.Refused(403, exceeds);
            }

            var expiresAt = now + ttl < agent.ExpiresAt ? now + ttl : agent.ExpiresAt;
            var (plain, id, hash) = AgentKeys.Generate(CredentialKind.TaskToken);
            var token = new Credential
            {
                Id = id,
                AgentId = agent.Id,
                Kind = CredentialKind.TaskToken,
                SecretSha256 = hash,
                CreatedAt = now,
                ExpiresAt = expiresAt,
                Profiles = profiles.Distinct(StringComparer.Ordinal).ToList(),
                MaxRuns = maxRuns,
                CpuSeconds = cpuSeconds,
                Purpose = spec.Purpose,
                ParentId = parent.Credential.Id,
            };
            await _store.AddTaskTokenAsync(token, AuditRecords.TokenMinted(agent, token), cancellationToken);
            _ledger.CountMint(agent.Id, now);
            return new TokenOutcome(plain, token, 200, null);
        }
    }

    // Refusals have no cap of their own: past so many in an agent's minute they are counted, not recorded (or logged) one by one.
    private async Task<bool> RecordRefusalAsync(AuditEntry record, string code, CancellationToken cancellationToken)
    {
        if (!await _refusals.AdmitAsync(record.AgentId!, code, cancellationToken))
        {
            return false;
        }

        await _store.AppendAsync(record, cancellationToken);
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(2, LogLevel.Information, "Agent {Agent} over its {Cap} cap; refused with 429")]
        public static partial void Throttled(ILogger logger, string agent, string cap);
    }
}

/// <summary>What an agent asks for when it mints a task token; unset fields take narrow defaults.</summary>
public sealed record TokenSpec
{
    public IReadOnlyList<string>? Profiles { get; init; }

    public int? TtlSeconds { get; init; }

    public int? MaxRuns { get; init; }

    public double? CpuSeconds { get; init; }

    public string? Purpose { get; init; }
}

/// <summary>A minted token (shown once), or why not: 400 for bad input, 403 for asking more than the parent has, 429 past the minting cap.</summary>
public sealed record TokenOutcome(string? Token, Credential? Credential, int Status, IReadOnlyList<FieldError>? Errors)
{
    /// <summary>For 429: the cap reached (<see cref="CapNames.TokenMintRate"/>).</summary>
    public string? Cap { get; init; }

    /// <summary>For 429: when a mint would succeed again.</summary>
    public int? RetryAfterSeconds { get; init; }

    public static TokenOutcome Refused(int status, IReadOnlyList<FieldError> errors) => new(null, null, status, errors);
}
