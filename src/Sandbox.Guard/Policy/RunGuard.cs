using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Alerts;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Policy;

/// <summary>
/// The guard on the one run path: who is calling (keys and task tokens), whether the profile is on
/// their allow-list, whether a cap is reached, whether a human must approve, and the audit record of
/// every step (request, decision, receipt before the code starts, result). Front ends call it in that
/// order and translate its answers; they decide nothing themselves.
/// Rate and concurrency live in memory (one node); daily runs and CPU seconds live in the store.
/// </summary>
public sealed partial class RunGuard
{
    /// <summary>Task tokens live at most an hour: long enough for one task, short enough that a leaked one soon dies.</summary>
    public static readonly TimeSpan MaxTokenLifetime = TimeSpan.FromHours(1);

    private static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(1);

    /// <summary>The window of <see cref="GuardOptions.TokensPerAgentPerHour"/>.</summary>
    private static readonly TimeSpan TokenMintWindow = TimeSpan.FromHours(1);

    private readonly IGuardStore _store;
    private readonly GuardOptions _options;
    private readonly RunDetectors _detectors;
    private readonly IAlertSink _alerts;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, AgentCounters> _counters = new(StringComparer.Ordinal);
    private readonly AuthFailureWindow _authFailures = new();

    public RunGuard(IGuardStore store, GuardOptions options, IAlertSink alerts, TimeProvider time, ILogger<RunGuard> logger)
    {
        _store = store;
        _options = options;
        _detectors = new RunDetectors(options.Alerts);
        _alerts = alerts;
        _time = time;
        _logger = logger;
    }

    public IGuardStore Store => _store;

    /// <summary>This process's name in request records; see <see cref="GuardOptions.NodeId"/>.</summary>
    public string NodeId => _options.NodeId ?? Environment.MachineName;

    public GuardOptions Options => _options;

    // ---- who is calling ----

    /// <summary>
    /// Checks an <c>Authorization</c> header value (<c>Bearer sbxa_…</c> or <c>Bearer sbxt_…</c>). Every
    /// refusal is audited with its reason (never the secret), so a stream of bad keys is visible.
    /// </summary>
    /// <remarks>
    /// Past <see cref="GuardOptions.AuthFailuresAuditedPerMinute"/> in a minute, failures are counted instead,
    /// and the count goes into one <c>suppressed</c> record when the minute is over (see <see cref="FlushAuthFailuresAsync"/>).
    /// </remarks>
    public async Task<AuthOutcome> AuthenticateAsync(string? authorization, string action, CancellationToken cancellationToken)
    {
        var outcome = await CheckKeyAsync(authorization, cancellationToken);
        if (outcome.Principal is null)
        {
            try
            {
                await RecordAuthFailureAsync(outcome.Code!, action, outcome.Message!, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The refusal stands when its record cannot be written (a full disk): a bad key is still 401, never an
                // error that reads as ours; the log keeps what the audit could not (issue 11, fault 7).
                Log.AuthFailureNotRecorded(_logger, action, outcome.Code!, ex);
            }
        }

        return outcome;
    }

    /// <summary>
    /// Audits one failed authentication (an agent key's, or the admin API's <c>admin_refused</c>), or only counts it past
    /// <see cref="GuardOptions.AuthFailuresAuditedPerMinute"/> in a minute: whoever can reach the port must not be able to
    /// grow the audit log without bound, with whichever key they guess.
    /// </summary>
    public async Task RecordAuthFailureAsync(string code, string action, string reason, CancellationToken cancellationToken)
    {
        await FlushAuthFailuresAsync(cancellationToken);
        if (_authFailures.TryAdmit(_time.GetUtcNow(), code, _options.AuthFailuresAuditedPerMinute))
        {
            await _store.AppendAsync(new AuditEntry
            {
                Kind = AuditKinds.Auth,
                Status = code,
                Data = new JsonObject { ["action"] = action, ["reason"] = reason },
            }, cancellationToken);
            Log.AuthFailed(_logger, action, code);
        }
    }

    /// <summary>
    /// Writes the count of failed authentications that were not audited one by one, once their minute is over
    /// (or at once with <paramref name="force"/>, when closing). Called on every failure and by the service's watcher.
    /// </summary>
    public async Task FlushAuthFailuresAsync(CancellationToken cancellationToken, bool force = false)
    {
        if (_authFailures.TakeSuppressed(_time.GetUtcNow(), force) is not { } suppressed)
        {
            return;
        }

        var byCode = new JsonObject();
        foreach (var (code, count) in suppressed.ByCode.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            byCode[code] = count;
        }

        await _store.AppendAsync(new AuditEntry
        {
            Kind = AuditKinds.Auth,
            Status = "suppressed",
            Data = new JsonObject
            {
                ["count"] = suppressed.Count,
                ["byCode"] = byCode,
                ["from"] = AuditChain.FormatTime(suppressed.WindowStart),
                ["to"] = AuditChain.FormatTime(suppressed.WindowEnd),
                ["reason"] = $"more than {_options.AuthFailuresAuditedPerMinute} failed authentications in a minute; the rest are counted here, not recorded one by one",
            },
        }, cancellationToken);
        Log.AuthFailuresSuppressed(_logger, suppressed.Count, _options.AuthFailuresAuditedPerMinute);
    }

    /// <summary>The principal behind a presented key (no audit): for front ends that authenticate once, such as MCP's configured local agent.</summary>
    public async Task<AuthOutcome> CheckKeyAsync(string? authorization, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(authorization))
        {
            return AuthOutcome.Failed("missing_key", "send the agent's key as the header `Authorization: Bearer sbxa_…` (operators create agents with `sandbox agents create`)");
        }

        const string Scheme = "Bearer ";
        if (!authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return AuthOutcome.Failed("malformed_key", "the Authorization header must be `Bearer <key>`");
        }

        var presented = authorization[Scheme.Length..].Trim();
        if (AgentKeys.TryParse(presented, out var problem) is not { } parsed)
        {
            return AuthOutcome.Failed("malformed_key", problem!);
        }

        // Unknown id and wrong secret get the same answer, so a caller cannot learn which key ids exist.
        var credential = await _store.FindCredentialAsync(parsed.Id, cancellationToken);
        if (credential is null || credential.Kind != parsed.Kind || !AgentKeys.Matches(parsed, credential))
        {
            return AuthOutcome.Failed("unknown_key", "no such key; check that the whole key was copied, or ask an operator for a new one");
        }

        var agent = await _store.FindAgentAsync(credential.AgentId, cancellationToken)
            ?? throw new InvalidOperationException($"credential {credential.Id} belongs to agent {credential.AgentId}, which the store does not have");
        var now = _time.GetUtcNow();
        var what = credential.Kind == CredentialKind.TaskToken ? "task token" : "key";
        if (agent.RevokedAt is not null)
        {
            return AuthOutcome.Failed("agent_revoked", $"agent '{agent.Name}' was revoked at {agent.RevokedAt:u} ({agent.RevokedReason}); its keys and tokens no longer work");
        }

        if (credential.RevokedAt is not null)
        {
            return AuthOutcome.Failed("key_revoked", $"this {what} was revoked at {credential.RevokedAt:u}{(credential.Kind == CredentialKind.AgentKey ? " (the key was rotated); use the new key" : "")}");
        }

        if (now >= agent.ExpiresAt)
        {
            return AuthOutcome.Failed("agent_expired", $"agent '{agent.Name}' expired at {agent.ExpiresAt:u}; an operator can create a new agent");
        }

        if (now >= credential.ExpiresAt)
        {
            return AuthOutcome.Failed(credential.Kind == CredentialKind.TaskToken ? "token_expired" : "key_expired",
                $"this {what} expired at {credential.ExpiresAt:u}{(credential.Kind == CredentialKind.TaskToken ? "; mint a new task token with the agent's key" : "")}");
        }

        if (await ParentProblemAsync(credential, now, cancellationToken) is { } dead)
        {
            return AuthOutcome.Failed("key_revoked", dead);
        }

        return new AuthOutcome(new Principal(agent, credential), null, null);
    }

    /// <summary>
    /// Why a task token no longer works because of the key that minted it (rotated, revoked or expired), or null.
    /// A token carries its key's authority, so it must not outlive it: a leaked key is rotated to stop it, tokens included.
    /// </summary>
    private async Task<string?> ParentProblemAsync(Credential credential, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (credential.Kind != CredentialKind.TaskToken || credential.ParentId is not { } parentId)
        {
            return null;
        }

        var parent = await _store.FindCredentialAsync(parentId, cancellationToken);
        return parent is null || parent.RevokedAt is not null || now >= parent.ExpiresAt
            ? $"the key that minted this task token ({parentId}) was rotated, revoked or has expired, and its tokens died with it; mint a new token with the agent's current key"
            : null;
    }

    /// <summary>The principal, reloaded from the store: null when it was revoked or expired since it authenticated.</summary>
    public async Task<Principal?> RefreshAsync(Principal principal, CancellationToken cancellationToken)
    {
        var agent = await _store.FindAgentAsync(principal.Agent.Id, cancellationToken);
        var credential = await _store.FindCredentialAsync(principal.Credential.Id, cancellationToken);
        var now = _time.GetUtcNow();
        return agent is { } a && credential is { } c && a.IsActive(now) && c.RevokedAt is null && now < c.ExpiresAt
            && await ParentProblemAsync(c, now, cancellationToken) is null
            ? new Principal(a, c)
            : null;
    }

    /// <summary>
    /// Why runs started with this credential must stop: the key was rotated or revoked since (a rotation means it may have
    /// leaked), or the token's minting key was; null while it stands. Expiry is not a reason: a run started in time may finish.
    /// </summary>
    public async Task<string?> RevokedCredentialAsync(Credential credential, CancellationToken cancellationToken)
    {
        var current = await _store.FindCredentialAsync(credential.Id, cancellationToken);
        var what = credential.Kind == CredentialKind.TaskToken ? $"task token {credential.Id}" : $"key {credential.Id}";
        if (current is null || current.RevokedAt is not null)
        {
            return $"{what} that started it was rotated or revoked{(current?.RevokedAt is { } at ? $" at {at:u}" : "")}, so it may have leaked";
        }

        if (current.ParentId is { } parentId && await _store.FindCredentialAsync(parentId, cancellationToken) is not { RevokedAt: null })
        {
            return $"{what} that started it was minted by key {parentId}, which was rotated or revoked, so it may have leaked";
        }

        return null;
    }

    // ---- task tokens ----

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

        foreach (var profile in profiles.Where(p => !agent.Profiles.Contains(p, StringComparer.Ordinal)))
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
        var counters = CountersOf(agent.Id);
        await counters.Gate.WaitAsync(cancellationToken);
        try
        {
            return await MintUnderCapAsync(parent, spec, counters, profiles, exceeds, ttl, maxRuns, cpuSeconds, now, cancellationToken);
        }
        finally
        {
            counters.Gate.Release();
        }
    }

    private async Task<TokenOutcome> MintUnderCapAsync(Principal parent, TokenSpec spec, AgentCounters counters, IReadOnlyList<string> profiles, List<FieldError> exceeds,
        TimeSpan ttl, int maxRuns, double cpuSeconds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var agent = parent.Agent;
        if (counters.Mints.Count(now) >= _options.TokensPerAgentPerHour)
        {
            var retryAfter = (int)Math.Clamp(Math.Ceiling((counters.Mints.Oldest(now) + TokenMintWindow - now).TotalSeconds), 1, TokenMintWindow.TotalSeconds);
            var reason = $"agent '{agent.Name}' minted {_options.TokensPerAgentPerHour} task tokens in the last hour, its cap; reuse a token or retry in {retryAfter} s";
            await _store.AppendAsync(new AuditEntry
            {
                Kind = AuditKinds.Decision,
                AgentId = agent.Id,
                Status = "throttled",
                Data = new JsonObject { ["action"] = "mint_token", ["code"] = "cap_exceeded", ["reason"] = reason, ["cap"] = CapNames.TokenMintRate },
            }, cancellationToken);
            Log.Throttled(_logger, agent.Name, CapNames.TokenMintRate);
            return TokenOutcome.Refused(429, [new FieldError("authorization", reason)]) with { Cap = CapNames.TokenMintRate, RetryAfterSeconds = retryAfter };
        }

        if (exceeds.Count > 0)
        {
            await _store.AppendAsync(new AuditEntry
            {
                Kind = AuditKinds.Decision,
                AgentId = agent.Id,
                Status = "rejected",
                Data = new JsonObject { ["action"] = "mint_token", ["reason"] = string.Join("; ", exceeds.Select(e => e.ToString())) },
            }, cancellationToken);
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
        await _store.AddTaskTokenAsync(token, new AuditEntry
        {
            Kind = AuditKinds.Admin,
            AgentId = agent.Id,
            Status = "token_minted",
            Data = new JsonObject
            {
                ["actor"] = "agent:" + agent.Name,
                ["tokenId"] = id,
                ["parentKeyId"] = parent.Credential.Id,
                ["profiles"] = new JsonArray(token.Profiles.Select(p => (JsonNode?)JsonValue.Create(p)).ToArray()),
                ["expiresAt"] = AuditChain.FormatTime(expiresAt),
                ["maxRuns"] = maxRuns,
                ["cpuSeconds"] = cpuSeconds,
                ["purpose"] = spec.Purpose,
            },
        }, cancellationToken);
        counters.Mints.Add(now);
        return new TokenOutcome(plain, token, 200, null);
    }

    // ---- the run path ----

    /// <summary>Problems with the guard's own fields of a request (the stated purpose), each naming its field.</summary>
    public IReadOnlyList<FieldError> CheckRequest(RunRequest request) =>
        request.Purpose is { } purpose && purpose.Length > _options.MaxPurposeLength
            ? [new FieldError("purpose", $"is {purpose.Length} characters; the most is {_options.MaxPurposeLength}; say why in a sentence or two")]
            : [];

    /// <summary>A request refused before the guard's decision (invalid input): audited as a request and a rejection, so there is no gap.</summary>
    public async Task RecordRefusalAsync(Principal principal, RunRequest? request, string runId, string code, string reason, CancellationToken cancellationToken)
    {
        if (request is not null)
        {
            await _store.AppendAsync(RequestRecord(principal, request, runId, resolvedProfile: null, withCode: false), cancellationToken);
        }

        await _store.AppendAsync(Decision(principal, runId, "rejected", code, reason), cancellationToken);
    }

    /// <summary>
    /// Counts a refused request (invalid, over the profile, off the allow-list) against the agent's rate, or, when the
    /// agent is already at its rate, returns the throttle to answer instead. Refusals cost parsing, audit records and
    /// log lines, so an agent sending bad requests in a loop is capped like one sending good ones; past the rate
    /// nothing more is counted, so a flood cannot grow the window.
    /// </summary>
    public Admission? CountRefusal(Principal principal)
    {
        var agent = principal.Agent;
        var counters = CountersOf(agent.Id);
        var now = _time.GetUtcNow();
        if (counters.Admissions.Count(now) >= agent.RatePerMinute)
        {
            var retry = Seconds(counters.Admissions.Oldest(now) + RateWindow - now);
            Log.Throttled(_logger, agent.Name, CapNames.Rate);
            return new Admission
            {
                Kind = AdmissionKind.Throttled,
                Code = "cap_exceeded",
                Cap = CapNames.Rate,
                Reason = $"agent '{agent.Name}' reached its rate of {agent.RatePerMinute} runs per minute, refused requests included; retry after {retry} s",
                RetryAfterSeconds = retry,
            };
        }

        counters.Admissions.Add(now);
        return null;
    }

    /// <summary>
    /// The guard's decision on a planned run, in order: the allow-list, the caps, then whether a human must
    /// approve. Writes the request and the decision to the audit log before answering. An allowed run holds
    /// one of the agent's concurrent slots until <see cref="CompleteAsync"/>.
    /// </summary>
    /// <param name="principal">Who asks.</param>
    /// <param name="plan">The planned run.</param>
    /// <param name="cancellationToken">Cancels the store calls.</param>
    /// <param name="approvedWaiting">
    /// The agent's approved runs still waiting for a slot (the caller tracks them). They count towards the
    /// concurrency cap like queued runs, so a new run cannot take the slot an approved run is waiting for.
    /// </param>
    public async Task<Admission> AdmitAsync(Principal principal, RunPlan plan, CancellationToken cancellationToken, int approvedWaiting = 0)
    {
        var agent = principal.Agent;
        var runId = plan.RunId;
        if (!principal.Allows(plan.Profile.Name))
        {
            await _store.AppendAsync(RequestRecord(principal, plan.Request, runId, plan.Profile.Name, withCode: false), cancellationToken);
            var reason = $"profile '{plan.Profile.Name}' is not on the allow-list of {principal} ({string.Join(", ", principal.Profiles)}); nothing ran";
            await _store.AppendAsync(Decision(principal, runId, "rejected", "profile_not_allowed", reason), cancellationToken);
            return new Admission
            {
                Kind = AdmissionKind.Rejected,
                Code = "profile_not_allowed",
                Reason = reason,
                Errors = [new FieldError(plan.Request.Profile is null ? "language" : "profile", $"profile '{plan.Profile.Name}' is not allowed for this key; allowed: {string.Join(", ", principal.Profiles)}")],
            };
        }

        var counters = CountersOf(agent.Id);
        await counters.Gate.WaitAsync(cancellationToken);
        Admission admission;
        IReadOnlyList<Alert> alerts = [];
        try
        {
            var now = _time.GetUtcNow();
            var day = Day(now);
            var usage = await _store.GetUsageAsync(agent.Id, day, cancellationToken);
            var tokenUsage = principal.IsTaskToken ? await _store.GetUsageAsync(principal.Credential.Id, LifePeriod, cancellationToken) : Usage.Zero;
            var throttled = CheckCaps(principal, counters, TokenCountersOf(principal), approvedWaiting, usage, tokenUsage, now);

            // The caps are checked before the code is written: a throttled caller's code is not kept (its hash and size are).
            await _store.AppendAsync(RequestRecord(principal, plan.Request, runId, plan.Profile.Name, withCode: throttled is null), cancellationToken);
            if (throttled is not null)
            {
                await _store.AppendAsync(Decision(principal, runId, "throttled", "cap_exceeded", throttled.Reason!, throttled.Cap), cancellationToken);
                Log.Throttled(_logger, agent.Name, throttled.Cap!);
                return throttled;
            }

            // Admitted from here on: it counts towards the rate and the daily runs whether it runs now or waits for a human.
            counters.Admissions.Add(now);
            await _store.AddUsageAsync(agent.Id, day, 1, 0, cancellationToken);
            if (principal.IsTaskToken)
            {
                await _store.AddUsageAsync(principal.Credential.Id, LifePeriod, 1, 0, cancellationToken);
            }

            alerts = _detectors.OnAdmitted(new RunObservation(agent.Id, agent.Name, runId, Sha256(plan.Request.Code), now, null));
            await HandleAlertsAsync(alerts, cancellationToken);

            // An alert above may just have put the agent under approval: this very run then waits.
            var current = alerts.Count > 0 && _options.Alerts.HoldAgent ? await _store.FindAgentAsync(agent.Id, cancellationToken) ?? agent : agent;
            var approvalReason = plan.Profile.RequiresApproval
                ? $"profile '{plan.Profile.Name}' requires a human's approval for every run"
                : current.UnderApproval ? $"agent '{agent.Name}' is under approval: {current.UnderApprovalReason}" : null;
            if (approvalReason is not null)
            {
                var approval = new Approval
                {
                    Id = AgentKeys.NewId("apr_"),
                    RunId = runId,
                    AgentId = agent.Id,
                    AgentName = agent.Name,
                    Profile = plan.Profile.Name,
                    Language = plan.Request.Language,
                    CodeSha256 = Sha256(plan.Request.Code),
                    Code = plan.Request.Code,
                    // Everything that runs, not only the code: an approver who sees only `import helper` approves helper.py unseen.
                    Stdin = plan.Request.Stdin,
                    Files = (plan.Request.Files ?? []).Select(ApprovalDigest.File).ToList(),
                    Backend = plan.Backend,
                    Runtime = plan.Runtime,
                    Limits = plan.Limits,
                    RequestSha256 = ApprovalDigest.Of(plan),
                    Purpose = plan.Request.Purpose,
                    Reason = approvalReason,
                    CreatedAt = now,
                    ExpiresAt = now + _options.ApprovalTimeout,
                };
                await _store.CreateApprovalAsync(approval, cancellationToken);
                var decision = Decision(principal, runId, "pending", "approval_required", approvalReason);
                decision.Data["approvalId"] = approval.Id;
                decision.Data["expiresAt"] = AuditChain.FormatTime(approval.ExpiresAt);
                await _store.AppendAsync(decision, cancellationToken);
                Log.Pending(_logger, runId, agent.Name, approval.Id);
                return new Admission { Kind = AdmissionKind.Pending, Code = "approval_required", Reason = approvalReason, Approval = approval };
            }

            Interlocked.Increment(ref counters.InFlight);
            var effective = TightenToBudget(principal, plan, usage, tokenUsage);
            Reserve(principal, effective, +1);
            var allowed = Decision(principal, runId, "allowed", null, "within the allow-list and every cap");
            if (effective.Limits.CpuTimeMs < plan.Limits.CpuTimeMs)
            {
                allowed.Data["cpuTimeMsTightenedTo"] = effective.Limits.CpuTimeMs;
            }

            if (effective.Profile.Compile?.Limits.CpuTimeMs < plan.Profile.Compile?.Limits.CpuTimeMs)
            {
                allowed.Data["compileCpuTimeMsTightenedTo"] = effective.Profile.Compile!.Limits.CpuTimeMs;
            }

            await _store.AppendAsync(allowed, cancellationToken);
            admission = new Admission { Kind = AdmissionKind.Allowed, Plan = effective };
        }
        finally
        {
            counters.Gate.Release();
        }

        return admission;
    }

    /// <summary>
    /// An approved run asks to be queued: it takes one of the agent's concurrent slots if one is free, and null
    /// means none is (it waits and asks again). The concurrency cap holds for approved runs too: an operator who
    /// approves five runs of an agent capped at one gets them one after another, not five at once. The other caps
    /// were checked when it was requested. Its CPU limit is tightened to what remains of the budgets now, as an
    /// allowed run's is at admission: an approval lets a run start, it does not lift the agent's or the token's CPU budget.
    /// </summary>
    public async Task<RunPlan?> TryReleaseAsync(Principal principal, RunPlan plan, CancellationToken cancellationToken)
    {
        var counters = CountersOf(principal.Agent.Id);
        await counters.Gate.WaitAsync(cancellationToken);
        try
        {
            if (counters.InFlight >= principal.Agent.MaxConcurrentRuns)
            {
                return null;
            }

            var usage = await _store.GetUsageAsync(principal.Agent.Id, Day(_time.GetUtcNow()), cancellationToken);
            var tokenUsage = principal.IsTaskToken ? await _store.GetUsageAsync(principal.Credential.Id, LifePeriod, cancellationToken) : Usage.Zero;
            if (CpuLeft(principal, usage, tokenUsage) <= 0 && (Volatile.Read(ref counters.ReservedCpuMs) > 0 || Volatile.Read(ref TokenCountersOf(principal).ReservedCpuMs) > 0))
            {
                // What is left is reserved by runs in flight: wait for them to finish and hand back what they did not use.
                return null;
            }

            Interlocked.Increment(ref counters.InFlight);
            var effective = TightenToBudget(principal, plan, usage, tokenUsage);
            Reserve(principal, effective, +1);
            return effective;
        }
        finally
        {
            counters.Gate.Release();
        }
    }

    /// <summary>
    /// Before an approved run is released: whether what was approved is still what would run. Both the approval
    /// record (what the approver was shown) and the run's plan must hash to the digest taken when the approval was
    /// made; otherwise the run is refused (a decision record says why) and the reason is returned.
    /// </summary>
    public async Task<string?> CheckApprovedAsync(Principal principal, Approval approval, RunPlan plan, CancellationToken cancellationToken)
    {
        var reason = approval.RequestSha256 is not { } approved
            ? "the approval predates approvals that bind the whole request; submit the run again"
            : ApprovalDigest.Of(approval) != approved
                ? "the approval's record was changed after it was made, so what the approver saw is not what was approved; submit the run again"
                : ApprovalDigest.Of(plan) != approved
                    ? "what would run (code, files, stdin, profile, runtime or limits) is not what was approved; submit the run again"
                    : null;
        if (reason is not null)
        {
            var refused = Decision(principal, plan.RunId, "rejected", "approval_mismatch", reason);
            refused.Data["approvalId"] = approval.Id;
            refused.Data["approvedSha256"] = approval.RequestSha256;
            await _store.AppendAsync(refused, cancellationToken);
            Log.ApprovalMismatch(_logger, plan.RunId, approval.Id);
        }

        return reason;
    }

    /// <summary>Gives back a slot taken by <see cref="TryReleaseAsync"/> for a run that could not be queued after all.</summary>
    public void ReleaseSlot(Principal principal, RunPlan plan)
    {
        Interlocked.Decrement(ref CountersOf(principal.Agent.Id).InFlight);
        Reserve(principal, plan, -1);
    }

    /// <summary>
    /// The receipt: the effective plan, written before the code starts. With <paramref name="run"/>, the run's stored row
    /// is written in the same transaction, so a run that has a receipt is always found again after a restart.
    /// </summary>
    public Task ReceiptAsync(Principal principal, RunPlan plan, JsonObject? extra, CancellationToken cancellationToken, StoredRun? run = null)
    {
        var data = new JsonObject
        {
            ["profile"] = plan.Profile.Name,
            ["backend"] = plan.Backend,
            ["runtime"] = plan.Runtime,
            ["image"] = plan.Backend == "docker" ? plan.Profile.Image : null,
            ["module"] = plan.Profile.Module is { } module ? Path.GetFileName(module) : null,
            ["limits"] = Limits(plan.Limits),
            ["compileLimits"] = plan.Profile.Compile is { } compile ? Limits(compile.Limits) : null,
            ["credentialId"] = principal.Credential.Id,
        };
        foreach (var (key, value) in extra ?? [])
        {
            data[key] = value?.DeepClone();
        }

        var receipt = new AuditEntry { Kind = AuditKinds.Receipt, AgentId = principal.Agent.Id, RunId = plan.RunId, Status = "planned", Data = data };
        return run is null ? _store.AppendAsync(receipt, cancellationToken) : _store.AdmitRunAsync(run, receipt, cancellationToken);
    }

    /// <summary>
    /// A run's one final record: releases its slot, charges its measured CPU time to the budgets, writes
    /// the result (status, usage, hashes and sizes of the output), feeds the detectors, and returns what
    /// remains of each budget.
    /// </summary>
    public async Task<IReadOnlyList<Budget>> CompleteAsync(Principal principal, RunPlan plan, RunResult result, bool heldSlot, JsonObject? extra, CancellationToken cancellationToken)
    {
        var agent = principal.Agent;
        var counters = CountersOf(agent.Id);
        var now = _time.GetUtcNow();
        try
        {
            // The compiler's CPU is the agent's too: a budget that skipped it could be spent compiling, for free.
            // A run that our infrastructure failed (sandbox_error) is charged nothing: our fault, not the agent's.
            var cpuMs = result.Status == RunStatus.SandboxError ? 0 : result.Usage.CpuMs + (result.Usage.CompileCpuMs ?? 0);
            if (cpuMs > 0)
            {
                await _store.AddUsageAsync(agent.Id, Day(now), 0, cpuMs, cancellationToken);
                if (principal.IsTaskToken)
                {
                    await _store.AddUsageAsync(principal.Credential.Id, LifePeriod, 0, cpuMs, cancellationToken);
                }
            }
        }
        finally
        {
            if (heldSlot)
            {
                // Only after the measured time is charged: for a moment it counts twice, never zero times.
                Interlocked.Decrement(ref counters.InFlight);
                Reserve(principal, plan, -1);
            }
        }

        var status = result.Status.ToWireName();
        var data = new JsonObject
        {
            ["exitCode"] = result.ExitCode,
            ["signal"] = result.Signal,
            ["message"] = result.Message,
            ["usage"] = new JsonObject
            {
                ["wallMs"] = result.Usage.WallMs,
                ["cpuMs"] = result.Usage.CpuMs,
                ["compileCpuMs"] = result.Usage.CompileCpuMs,
                ["peakMemoryBytes"] = result.Usage.PeakMemoryBytes,
                ["outputBytes"] = result.Usage.OutputBytes,
            },
            ["limitBreach"] = result.LimitBreach is { } breach ? new JsonObject { ["limit"] = breach.Limit, ["value"] = breach.Value, ["observed"] = breach.Observed } : null,
            ["stdoutSha256"] = Convert.ToHexStringLower(SHA256.HashData(result.StdoutBytes.Span)),
            ["stdoutBytes"] = result.StdoutBytes.Length,
            ["stdoutTruncated"] = result.StdoutTruncated,
            ["stderrSha256"] = Convert.ToHexStringLower(SHA256.HashData(result.StderrBytes.Span)),
            ["stderrBytes"] = result.StderrBytes.Length,
            ["stderrTruncated"] = result.StderrTruncated,
        };
        foreach (var (key, value) in extra ?? [])
        {
            data[key] = value?.DeepClone();
        }

        await _store.AppendAsync(new AuditEntry { Kind = AuditKinds.Result, AgentId = agent.Id, RunId = plan.RunId, Status = status, Data = data }, cancellationToken);
        var alerts = _detectors.OnCompleted(new RunObservation(agent.Id, agent.Name, plan.RunId, Sha256(plan.Request.Code), now, status));
        await HandleAlertsAsync(alerts, cancellationToken);
        return await BudgetsAsync(principal, cancellationToken);
    }

    /// <summary>What remains of each of the principal's budgets now.</summary>
    public async Task<IReadOnlyList<Budget>> BudgetsAsync(Principal principal, CancellationToken cancellationToken)
    {
        var agent = principal.Agent;
        var counters = CountersOf(agent.Id);
        var now = _time.GetUtcNow();
        var usage = await _store.GetUsageAsync(agent.Id, Day(now), cancellationToken);
        var midnight = NextMidnight(now);
        var budgets = new List<Budget>
        {
            Make(CapNames.Rate, agent.RatePerMinute, counters.Admissions.Count(now), now + RateWindow),
            Make(CapNames.Concurrency, agent.MaxConcurrentRuns, Volatile.Read(ref counters.InFlight), null),
            Make(CapNames.DailyRuns, agent.DailyRuns, usage.Runs, midnight),
            Make(CapNames.DailyCpuSeconds, agent.DailyCpuSeconds, usage.CpuMs / 1000.0, midnight),
        };
        if (principal.IsTaskToken)
        {
            var tokenUsage = await _store.GetUsageAsync(principal.Credential.Id, LifePeriod, cancellationToken);
            budgets.Add(Make(CapNames.TokenRuns, principal.Credential.MaxRuns ?? 0, tokenUsage.Runs, null));
            budgets.Add(Make(CapNames.TokenCpuSeconds, principal.Credential.CpuSeconds ?? 0, tokenUsage.CpuMs / 1000.0, null));
        }

        return budgets;

        static Budget Make(string name, double limit, double used, DateTimeOffset? resets) =>
            new(name, limit, Math.Round(used, 3), Math.Round(Math.Max(0, limit - used), 3), resets);
    }

    /// <summary>The run's final record when the process died under it (found at start-up): <c>interrupted</c>.</summary>
    public async Task<int> ReconcileAsync(CancellationToken cancellationToken)
    {
        var open = new List<OpenRun>();
        foreach (var run in await _store.OpenRunsAsync(cancellationToken))
        {
            // Another process sharing the store may be running this one right now: only our own are ours to close.
            var request = await _store.QueryAuditAsync(new AuditQuery { RunId = run.RunId, Kind = AuditKinds.Request, Limit = 1 }, cancellationToken);
            if (request.Count == 1 && JsonNode.Parse(request[0].Data)?["node"]?.GetValue<string>() is { } node && node != NodeId)
            {
                continue;
            }

            open.Add(run);
        }

        foreach (var run in open)
        {
            var reason = $"the service stopped without recording a result (last record: {run.Stage} at {AuditChain.FormatTime(run.Since)}); reconciled at start-up";
            await _store.AppendAsync(new AuditEntry
            {
                Kind = AuditKinds.Result,
                AgentId = run.AgentId,
                RunId = run.RunId,
                Status = "interrupted",
                Data = new JsonObject
                {
                    ["reason"] = reason,
                    ["lastStage"] = run.Stage,
                },
            }, cancellationToken);

            // The run's stored row says the same, so GET and a retried idempotency key answer with this end after the restart.
            await _store.CompleteRunAsync(run.RunId, "interrupted", reason, _time.GetUtcNow(), view: null, expiresAt: null, cancellationToken);
            Log.Reconciled(_logger, run.RunId, run.Stage);
        }

        // Approvals of runs that died with the process, or that already ended (their approval could not be closed
        // then), can never be released: expire them so nobody approves a ghost.
        foreach (var approval in await _store.ListApprovalsAsync(ApprovalState.Pending, cancellationToken))
        {
            if (open.Any(o => o.RunId == approval.RunId)
                || (await _store.QueryAuditAsync(new AuditQuery { RunId = approval.RunId, Kind = AuditKinds.Result, Limit = 1 }, cancellationToken)).Count > 0)
            {
                await CloseAsync(approval, "the service restarted before a decision", cancellationToken);
            }
        }

        return open.Count;
    }

    /// <summary>Expires a pending approval whose time ran out, with its audit record; null when someone decided it first.</summary>
    public Task<Approval?> ExpireAsync(Approval approval, CancellationToken cancellationToken) =>
        CloseAsync(approval, $"no decision within {RunDetectors.Describe(_options.ApprovalTimeout)}", cancellationToken);

    /// <summary>
    /// Closes (as expired, by the system) the approval of a pending run that ended without a decision: cancelled,
    /// its agent revoked, or the service stopping. Otherwise it would stay on the operators' pending list, and
    /// approving it would record an approval for a run that can no longer start. Null when someone decided it first.
    /// </summary>
    public Task<Approval?> WithdrawAsync(Approval approval, string reason, CancellationToken cancellationToken) =>
        CloseAsync(approval, "withdrawn: " + reason, cancellationToken);

    private Task<Approval?> CloseAsync(Approval approval, string note, CancellationToken cancellationToken) =>
        _store.DecideApprovalAsync(approval.Id, ApprovalState.Expired, "system", note, _time.GetUtcNow(), new AuditEntry
        {
            Kind = AuditKinds.Approval,
            AgentId = approval.AgentId,
            RunId = approval.RunId,
            Status = "expired",
            Data = new JsonObject { ["approvalId"] = approval.Id, ["by"] = "system", ["note"] = note },
        }, cancellationToken);

    private AgentCounters CountersOf(string agentId) => _counters.GetOrAdd(agentId, static _ => new AgentCounters());

    /// <summary>A task token's own reservations (its CPU budget is its own); an agent key's are the agent's.</summary>
    private AgentCounters TokenCountersOf(Principal principal) =>
        principal.IsTaskToken ? _counters.GetOrAdd(principal.Credential.Id, static _ => new AgentCounters()) : s_noToken;

    private static readonly AgentCounters s_noToken = new();

    /// <summary>
    /// Holds (+1) or hands back (-1) a run's CPU limit against its budgets. Runs in flight have not been charged
    /// yet, so without this several admitted together could each be given the whole of what remained.
    /// </summary>
    private void Reserve(Principal principal, RunPlan plan, int sign)
    {
        Interlocked.Add(ref CountersOf(principal.Agent.Id).ReservedCpuMs, sign * CpuLimitMs(plan));
        if (principal.IsTaskToken)
        {
            Interlocked.Add(ref TokenCountersOf(principal).ReservedCpuMs, sign * CpuLimitMs(plan));
        }
    }

    /// <summary>The most CPU a run may use: its own limit plus its compile step's, which is charged to the same budget.</summary>
    private static long CpuLimitMs(RunPlan plan) => plan.Limits.CpuTimeMs + (plan.Profile.Compile?.Limits.CpuTimeMs ?? 0);

    /// <summary>CPU milliseconds neither used nor reserved by runs in flight, for the agent and (if it is one) the token.</summary>
    private long CpuLeft(Principal principal, Usage usage, Usage tokenUsage)
    {
        var left = (long)(principal.Agent.DailyCpuSeconds * 1000) - usage.CpuMs - Volatile.Read(ref CountersOf(principal.Agent.Id).ReservedCpuMs);
        if (principal.IsTaskToken && principal.Credential.CpuSeconds is { } tokenCpu)
        {
            left = Math.Min(left, (long)(tokenCpu * 1000) - tokenUsage.CpuMs - Volatile.Read(ref TokenCountersOf(principal).ReservedCpuMs));
        }

        return left;
    }

    public static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private const string LifePeriod = "life";

    private static string Day(DateTimeOffset now) => now.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static DateTimeOffset NextMidnight(DateTimeOffset now) => new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddDays(1);

    private static Admission? CheckCaps(Principal principal, AgentCounters counters, AgentCounters tokenCounters, int approvedWaiting, Usage usage, Usage tokenUsage, DateTimeOffset now)
    {
        var agent = principal.Agent;
        var untilMidnight = Seconds(NextMidnight(now) - now);
        if (counters.InFlight + approvedWaiting >= agent.MaxConcurrentRuns)
        {
            var waiting = approvedWaiting > 0 ? $" and {approvedWaiting} approved run(s) waiting for a slot" : "";
            return Throttle(CapNames.Concurrency, 1, $"agent '{agent.Name}' already has {counters.InFlight} run(s) queued or running{waiting}, its cap of {agent.MaxConcurrentRuns}; retry when one finishes");
        }

        if (counters.Admissions.Count(now) >= agent.RatePerMinute)
        {
            var retry = Seconds(counters.Admissions.Oldest(now) + RateWindow - now);
            return Throttle(CapNames.Rate, retry, $"agent '{agent.Name}' reached its rate of {agent.RatePerMinute} runs per minute; retry after {retry} s");
        }

        if (usage.Runs >= agent.DailyRuns)
        {
            return Throttle(CapNames.DailyRuns, untilMidnight, $"agent '{agent.Name}' used its {agent.DailyRuns} runs for today (UTC); the budget resets at midnight UTC");
        }

        if (usage.CpuMs >= agent.DailyCpuSeconds * 1000)
        {
            return Throttle(CapNames.DailyCpuSeconds, untilMidnight, $"agent '{agent.Name}' used {usage.CpuMs / 1000.0:0.###} of its {agent.DailyCpuSeconds} CPU seconds for today (UTC); the budget resets at midnight UTC");
        }

        var reserved = Volatile.Read(ref counters.ReservedCpuMs);
        if (usage.CpuMs + reserved >= agent.DailyCpuSeconds * 1000)
        {
            return Throttle(CapNames.DailyCpuSeconds, 1, $"agent '{agent.Name}' used {usage.CpuMs / 1000.0:0.###} of its {agent.DailyCpuSeconds} CPU seconds for today (UTC) and its runs in flight may use the other {reserved / 1000.0:0.###}; retry when one finishes");
        }

        if (principal.IsTaskToken)
        {
            var untilExpiry = Seconds(principal.Credential.ExpiresAt - now);
            if (tokenUsage.Runs >= principal.Credential.MaxRuns)
            {
                return Throttle(CapNames.TokenRuns, untilExpiry, $"task token {principal.Credential.Id} used all {principal.Credential.MaxRuns} of its runs; mint a new token for more");
            }

            if (tokenUsage.CpuMs >= principal.Credential.CpuSeconds * 1000)
            {
                return Throttle(CapNames.TokenCpuSeconds, untilExpiry, $"task token {principal.Credential.Id} used all {principal.Credential.CpuSeconds} of its CPU seconds; mint a new token for more");
            }

            var tokenReserved = Volatile.Read(ref tokenCounters.ReservedCpuMs);
            if (tokenUsage.CpuMs + tokenReserved >= principal.Credential.CpuSeconds * 1000)
            {
                return Throttle(CapNames.TokenCpuSeconds, 1, $"task token {principal.Credential.Id} used {tokenUsage.CpuMs / 1000.0:0.###} of its {principal.Credential.CpuSeconds} CPU seconds and its runs in flight may use the other {tokenReserved / 1000.0:0.###}; retry when one finishes");
            }
        }

        return null;

        static Admission Throttle(string cap, int retryAfter, string reason) => new()
        {
            Kind = AdmissionKind.Throttled,
            Code = "cap_exceeded",
            Cap = cap,
            Reason = reason,
            RetryAfterSeconds = retryAfter,
        };
    }

    /// <summary>
    /// A run may not use more CPU than the budgets have left: its CPU limit is tightened to what is neither used
    /// nor reserved by the runs already in flight, so together they cannot overshoot the budget.
    /// </summary>
    private RunPlan TightenToBudget(Principal principal, RunPlan plan, Usage usage, Usage tokenUsage)
    {
        var remaining = CpuLeft(principal, usage, tokenUsage);
        if (plan.Profile.Compile is { } compile && remaining < CpuLimitMs(plan))
        {
            // The compile step runs first, so it is served first; the program gets what the compiler may not use.
            var compileMs = Math.Clamp(remaining, 1, compile.Limits.CpuTimeMs);
            plan = plan with { Profile = plan.Profile with { Compile = compile with { Limits = compile.Limits with { CpuTimeMs = compileMs } } } };
            remaining -= compileMs;
        }

        return remaining < plan.Limits.CpuTimeMs
            ? plan with { Limits = plan.Limits with { CpuTimeMs = Math.Max(1, remaining) } }
            : plan;
    }

    private async Task HandleAlertsAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken)
    {
        foreach (var alert in alerts)
        {
            Log.AlertFired(_logger, alert.Detector, alert.AgentName, alert.Summary);
            await _store.AppendAsync(new AuditEntry
            {
                Kind = AuditKinds.Alert,
                AgentId = alert.AgentId,
                Status = alert.Detector,
                Data = new JsonObject { ["summary"] = alert.Summary, ["details"] = alert.Details.DeepClone(), ["heldAgent"] = _options.Alerts.HoldAgent },
            }, cancellationToken);
            _alerts.Publish(alert);
            if (_options.Alerts.HoldAgent)
            {
                await _store.SetUnderApprovalAsync(alert.AgentId, true, "alert: " + alert.Summary, new AuditEntry
                {
                    Kind = AuditKinds.Admin,
                    AgentId = alert.AgentId,
                    Status = "approval_hold_set",
                    Data = new JsonObject { ["actor"] = "detector:" + alert.Detector, ["reason"] = alert.Summary },
                }, cancellationToken);
            }
        }
    }

    /// <remarks>
    /// <paramref name="withCode"/> is false for refused and throttled requests: they are recorded by hash and size only,
    /// so a caller the guard turns away cannot grow the audit log by up to the body cap per request.
    /// </remarks>
    private AuditEntry RequestRecord(Principal principal, RunRequest request, string runId, string? resolvedProfile, bool withCode) => RequestRecord(principal, request, runId, resolvedProfile, NodeId, withCode);

    private static AuditEntry RequestRecord(Principal principal, RunRequest request, string runId, string? resolvedProfile, string node, bool withCode) => new()
    {
        Kind = AuditKinds.Request,
        AgentId = principal.Agent.Id,
        RunId = runId,
        Status = "received",
        Data = new JsonObject
        {
            ["agent"] = principal.Agent.Name,
            ["node"] = node,
            ["credentialId"] = principal.Credential.Id,
            ["credentialKind"] = principal.IsTaskToken ? "task_token" : "agent_key",
            ["purpose"] = request.Purpose,
            ["language"] = request.Language,
            ["profile"] = resolvedProfile ?? request.Profile,
            ["requestedProfile"] = request.Profile,
            ["backend"] = request.Backend,
            ["runtime"] = request.Runtime,
            ["codeSha256"] = Sha256(request.Code),
            ["codeBytes"] = Encoding.UTF8.GetByteCount(request.Code),
            ["code"] = withCode ? request.Code : null,
            ["codeOmitted"] = withCode ? null : true,
            ["stdinSha256"] = request.Stdin is { } stdin ? Sha256(stdin) : null,
            ["files"] = request.Files is { } files
                ? new JsonArray(files.Select(f => (JsonNode?)new JsonObject { ["path"] = f.Path, ["sha256"] = Sha256(f.Content), ["bytes"] = Encoding.UTF8.GetByteCount(f.Content) }).ToArray())
                : null,
            ["requestedLimits"] = request.Limits is { } limits ? Overrides(limits) : null,
        },
    };

    private static AuditEntry Decision(Principal principal, string runId, string status, string? code, string reason, string? cap = null) => new()
    {
        Kind = AuditKinds.Decision,
        AgentId = principal.Agent.Id,
        RunId = runId,
        Status = status,
        Data = new JsonObject { ["code"] = code, ["reason"] = reason, ["cap"] = cap },
    };

    private static JsonObject Limits(ResourceLimits limits)
    {
        var o = new JsonObject();
        foreach (var (name, value) in limits.Enumerate())
        {
            o[name] = value;
        }

        return o;
    }

    private static JsonObject Overrides(LimitOverrides o) => new()
    {
        [LimitNames.WallTimeMs] = o.WallTimeMs,
        [LimitNames.CpuTimeMs] = o.CpuTimeMs,
        [LimitNames.MemoryBytes] = o.MemoryBytes,
        [LimitNames.Pids] = o.Pids,
        [LimitNames.StdoutBytes] = o.StdoutBytes,
        [LimitNames.StderrBytes] = o.StderrBytes,
        [LimitNames.FileSizeBytes] = o.FileSizeBytes,
        [LimitNames.TmpBytes] = o.TmpBytes,
    };

    private static int Seconds(TimeSpan span) => (int)Math.Clamp(Math.Ceiling(span.TotalSeconds), 1, int.MaxValue);

    /// <summary>One agent's in-memory counters: runs in flight, admissions within the last minute, token mints within the last hour.</summary>
    private sealed class AgentCounters
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public int InFlight;

        /// <summary>The CPU limits, in ms, of the runs in flight: what they may still charge to the budget.</summary>
        public long ReservedCpuMs;

        /// <summary>Admission times: the rate per minute.</summary>
        public SlidingWindow Admissions { get; } = new(RateWindow);

        /// <summary>Token mints: bounded by the cap, since a mint is only recorded while fewer than TokensPerAgentPerHour are in the window.</summary>
        public SlidingWindow Mints { get; } = new(TokenMintWindow);
    }

    /// <summary>Times of events within a trailing window; thread-safe.</summary>
    private sealed class SlidingWindow(TimeSpan length)
    {
        private readonly Lock _lock = new();
        private readonly Queue<DateTimeOffset> _times = new();

        public void Add(DateTimeOffset at)
        {
            lock (_lock)
            {
                _times.Enqueue(at);
            }
        }

        public int Count(DateTimeOffset now)
        {
            lock (_lock)
            {
                Prune(now);
                return _times.Count;
            }
        }

        /// <summary>The oldest time still in the window (or <paramref name="now"/> when it is empty).</summary>
        public DateTimeOffset Oldest(DateTimeOffset now)
        {
            lock (_lock)
            {
                Prune(now);
                return _times.TryPeek(out var oldest) ? oldest : now;
            }
        }

        private void Prune(DateTimeOffset now)
        {
            while (_times.TryPeek(out var oldest) && now - oldest >= length)
            {
                _times.Dequeue();
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Refused a call to {Action}: {Code}")]
        public static partial void AuthFailed(ILogger logger, string action, string code);

        [LoggerMessage(8, LogLevel.Error, "Refused a call to {Action}: {Code}; the refusal could not be audited")]
        public static partial void AuthFailureNotRecorded(ILogger logger, string action, string code, Exception exception);

        [LoggerMessage(6, LogLevel.Warning, "{Count} failed authentications past the {PerMinute} a minute audited one by one; their count is audited as one record")]
        public static partial void AuthFailuresSuppressed(ILogger logger, int count, int perMinute);

        [LoggerMessage(2, LogLevel.Information, "Agent {Agent} over its {Cap} cap; refused with 429")]
        public static partial void Throttled(ILogger logger, string agent, string cap);

        [LoggerMessage(3, LogLevel.Information, "Run {RunId} of agent {Agent} waits for approval {ApprovalId}")]
        public static partial void Pending(ILogger logger, string runId, string agent, string approvalId);

        [LoggerMessage(4, LogLevel.Warning, "Alert {Detector} for agent {Agent}: {Summary}")]
        public static partial void AlertFired(ILogger logger, string detector, string agent, string summary);

        [LoggerMessage(5, LogLevel.Warning, "Run {RunId} had no result after a restart (last: {Stage}); recorded as interrupted")]
        public static partial void Reconciled(ILogger logger, string runId, string stage);

        [LoggerMessage(7, LogLevel.Warning, "Run {RunId} was approved ({ApprovalId}), but what would run no longer matches what was approved; refused")]
        public static partial void ApprovalMismatch(ILogger logger, string runId, string approvalId);
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
