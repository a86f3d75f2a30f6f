using Microsoft.Extensions.Logging;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Policy;

/// <summary>
/// Who is calling: agent keys and task tokens checked against the store, and every refusal audited with its reason
/// (never the secret), at most <see cref="GuardOptions.AuthFailuresAuditedPerMinute"/> a minute one by one.
/// </summary>
public sealed partial class Authenticator
{
    private readonly IGuardStore _store;
    private readonly GuardOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AuditWindow _failures = new();

    public Authenticator(IGuardStore store, GuardOptions options, TimeProvider time, ILogger logger)
    {
        _store = store;
        _options = options;
        _time = time;
        _logger = logger;
    }

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
        if (_failures.TryAdmit(_time.GetUtcNow(), code, _options.AuthFailuresAuditedPerMinute))
        {
            await _store.AppendAsync(AuditRecords.AuthFailure(code, action, reason), cancellationToken);
            Log.AuthFailed(_logger, action, code);
        }
    }

    /// <summary>
    /// Writes the count of failed authentications that were not audited one by one, once their minute is over
    /// (or at once with <paramref name="force"/>, when closing). Called on every failure and by the service's watcher.
    /// </summary>
    public async Task FlushAuthFailuresAsync(CancellationToken cancellationToken, bool force = false)
    {
        if (_failures.TakeSuppressed(_time.GetUtcNow(), force) is not { } suppressed)
        {
            return;
        }

        await _store.AppendAsync(AuditRecords.AuthSuppressed(suppressed, _options.AuthFailuresAuditedPerMinute), cancellationToken);
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

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Refused a call to {Action}: {Code}")]
        public static partial void AuthFailed(ILogger logger, string action, string code);

        [LoggerMessage(8, LogLevel.Error, "Refused a call to {Action}: {Code}; the refusal could not be audited")]
        public static partial void AuthFailureNotRecorded(ILogger logger, string action, string code, Exception exception);

        [LoggerMessage(6, LogLevel.Warning, "{Count} failed authentications past the {PerMinute} a minute audited one by one; their count is audited as one record")]
        public static partial void AuthFailuresSuppressed(ILogger logger, int count, int perMinute);
    }
}
