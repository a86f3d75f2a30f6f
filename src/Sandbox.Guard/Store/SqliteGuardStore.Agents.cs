using Microsoft.Data.Sqlite;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Audit;

namespace Sandbox.Guard.Store;

/// <summary>Agents and their credentials.</summary>
public sealed partial class SqliteGuardStore
{
    private const string AgentColumns =
        "id, name, profiles, rate_per_minute, max_concurrent_runs, daily_cpu_seconds, daily_runs, created_at, expires_at, revoked_at, revoked_reason, under_approval, under_approval_reason, max_session_memory_mb, max_open_sessions, daily_stored_mb";

    private const string CredentialColumns =
        "id, agent_id, kind, secret_sha256, created_at, expires_at, revoked_at, profiles, max_runs, cpu_seconds, purpose, parent_id";

    public Task<bool> CreateAgentAsync(Agent agent, Credential key, AuditEntry audit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(agent);
        ArgumentNullException.ThrowIfNull(audit);
        RequireCredential(key, agent.Id, CredentialKind.AgentKey);

        return WriteAsync(async (connection, transaction) =>
        {
            // A taken name inserts nothing (and the whole transaction, audit included, is rolled back).
            var inserted = await ExecuteAsync(connection, transaction,
                $"INSERT INTO agents ({AgentColumns}) VALUES ($id, $name, $profiles, $rate, $concurrent, $cpu, $runs, $created, $expires, $revoked, $revokedReason, $underApproval, $underApprovalReason, $sessionMemory, $openSessions, $storedMb) ON CONFLICT (name) DO NOTHING",
                cancellationToken,
                ("$id", agent.Id), ("$name", agent.Name), ("$profiles", SqliteValues.List(agent.Profiles)),
                ("$rate", agent.RatePerMinute), ("$concurrent", agent.MaxConcurrentRuns), ("$cpu", agent.DailyCpuSeconds), ("$runs", agent.DailyRuns),
                ("$created", SqliteValues.Time(agent.CreatedAt)), ("$expires", SqliteValues.Time(agent.ExpiresAt)),
                ("$revoked", SqliteValues.Time(agent.RevokedAt)), ("$revokedReason", agent.RevokedReason),
                ("$underApproval", agent.UnderApproval ? 1 : 0), ("$underApprovalReason", agent.UnderApprovalReason),
                ("$sessionMemory", agent.MaxSessionMemoryMb), ("$openSessions", agent.MaxOpenSessions), ("$storedMb", agent.DailyStoredMb));
            if (inserted == 0)
            {
                return (false, false);
            }

            await InsertCredentialAsync(connection, transaction, key, cancellationToken);
            await AppendAsync(connection, transaction, audit, cancellationToken);
            return (true, true);
        }, cancellationToken);
    }

    public async Task<Agent?> FindAgentAsync(string idOrName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(idOrName);
        var column = idOrName.StartsWith("agt_", StringComparison.Ordinal) ? "id" : "name";
        var rows = await ReadAsync($"SELECT {AgentColumns} FROM agents WHERE {column} = $key", ReadAgent, cancellationToken, ("$key", idOrName));
        return rows.Count == 0 ? null : rows[0];
    }

    public Task<IReadOnlyList<Agent>> ListAgentsAsync(CancellationToken cancellationToken) =>
        ReadAsync($"SELECT {AgentColumns} FROM agents ORDER BY name", ReadAgent, cancellationToken);

    /// <remarks>The old keys are marked revoked at <paramref name="newKey"/>'s creation time: the moment of the rotation on the caller's clock.</remarks>
    public Task<bool> RotateKeyAsync(string agentId, Credential newKey, AuditEntry audit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(agentId);
        ArgumentNullException.ThrowIfNull(audit);
        RequireCredential(newKey, agentId, CredentialKind.AgentKey);

        return WriteAsync(async (connection, transaction) =>
        {
            var live = await ReadAsync(connection, transaction, "SELECT 1 FROM agents WHERE id = $id AND revoked_at IS NULL", _ => true, cancellationToken, ("$id", agentId));
            if (live.Count == 0)
            {
                return (false, false);
            }

            // Every live key is rotated out, and with them every token they minted: a token must not outlive the key
            // that vouched for it (a leaked key's tokens would otherwise keep working for up to an hour after the rotation).
            await ExecuteAsync(connection, transaction,
                "UPDATE credentials SET revoked_at = $at WHERE agent_id = $id AND revoked_at IS NULL",
                cancellationToken, ("$at", SqliteValues.Time(newKey.CreatedAt)), ("$id", agentId));
            await InsertCredentialAsync(connection, transaction, newKey, cancellationToken);
            await AppendAsync(connection, transaction, audit, cancellationToken);
            return (true, true);
        }, cancellationToken);
    }

    public Task<bool> RevokeAgentAsync(string agentId, DateTimeOffset at, string reason, AuditEntry audit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(agentId);
        ArgumentNullException.ThrowIfNull(reason);
        ArgumentNullException.ThrowIfNull(audit);

        return WriteAsync(async (connection, transaction) =>
        {
            var revoked = await ExecuteAsync(connection, transaction,
                "UPDATE agents SET revoked_at = $at, revoked_reason = $reason WHERE id = $id AND revoked_at IS NULL",
                cancellationToken, ("$at", SqliteValues.Time(at)), ("$reason", reason), ("$id", agentId));
            if (revoked == 0)
            {
                return (false, false);
            }

            // Keys and tokens die with their agent, so a check of the credential alone is enough.
            await ExecuteAsync(connection, transaction,
                "UPDATE credentials SET revoked_at = $at WHERE agent_id = $id AND revoked_at IS NULL",
                cancellationToken, ("$at", SqliteValues.Time(at)), ("$id", agentId));
            // No artifact outlives its agent's revocation: the files its runs returned go with its keys (the results stay, for the record).
            await ExecuteAsync(connection, transaction,
                "DELETE FROM run_artifacts WHERE run_id IN (SELECT run_id FROM runs WHERE agent_id = $id)", cancellationToken, ("$id", agentId));
            await AppendAsync(connection, transaction, audit, cancellationToken);
            return (true, true);
        }, cancellationToken);
    }

    /// <remarks>Clearing the hold (<paramref name="underApproval"/> false) also clears its reason.</remarks>
    public Task<bool> SetUnderApprovalAsync(string agentId, bool underApproval, string? reason, AuditEntry audit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(agentId);
        ArgumentNullException.ThrowIfNull(audit);

        return WriteAsync(async (connection, transaction) =>
        {
            var changed = await SetUnderApprovalAsync(connection, transaction, agentId, underApproval, reason, cancellationToken);
            if (changed == 0)
            {
                return (false, false);
            }

            await AppendAsync(connection, transaction, audit, cancellationToken);
            return (true, true);
        }, cancellationToken);
    }

    private static Task<int> SetUnderApprovalAsync(SqliteConnection connection, SqliteTransaction transaction, string agentId, bool underApproval, string? reason, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction,
            "UPDATE agents SET under_approval = $on, under_approval_reason = $reason WHERE id = $id",
            cancellationToken, ("$on", underApproval ? 1 : 0), ("$reason", underApproval ? reason : null), ("$id", agentId));

    public async Task<Credential?> FindCredentialAsync(string credentialId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(credentialId);
        var rows = await ReadAsync($"SELECT {CredentialColumns} FROM credentials WHERE id = $id", ReadCredential, cancellationToken, ("$id", credentialId));
        return rows.Count == 0 ? null : rows[0];
    }

    /// <exception cref="InvalidOperationException">The token's agent is unknown or revoked: a token is never stored for an agent that cannot use it.</exception>
    public Task AddTaskTokenAsync(Credential token, AuditEntry audit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(audit);
        RequireCredential(token, token.AgentId, CredentialKind.TaskToken);

        return WriteAsync(async (connection, transaction) =>
        {
            // Checked inside the write transaction: an agent revoked between the caller's check and
            // this write must not gain a live token.
            var live = await ReadAsync(connection, transaction, "SELECT 1 FROM agents WHERE id = $id AND revoked_at IS NULL", _ => true, cancellationToken, ("$id", token.AgentId));
            if (live.Count == 0)
            {
                throw new InvalidOperationException($"Agent '{token.AgentId}' is unknown or revoked: its task token was not stored.");
            }

            await InsertCredentialAsync(connection, transaction, token, cancellationToken);
            await AppendAsync(connection, transaction, audit, cancellationToken);
            return (true, true);
        }, cancellationToken);
    }

    public Task<IReadOnlyList<Credential>> ListCredentialsAsync(string agentId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(agentId);
        return ReadAsync($"SELECT {CredentialColumns} FROM credentials WHERE agent_id = $id ORDER BY created_at DESC, rowid DESC",
            ReadCredential, cancellationToken, ("$id", agentId));
    }

    private static void RequireCredential(Credential credential, string agentId, CredentialKind kind)
    {
        ArgumentNullException.ThrowIfNull(credential);
        if (!string.Equals(credential.AgentId, agentId, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The credential belongs to agent '{credential.AgentId}', not '{agentId}'.", nameof(credential));
        }

        if (credential.Kind != kind)
        {
            throw new ArgumentException($"Expected a credential of kind {kind}, got {credential.Kind}.", nameof(credential));
        }
    }

    private static Task<int> InsertCredentialAsync(SqliteConnection connection, SqliteTransaction transaction, Credential credential, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction,
            $"INSERT INTO credentials ({CredentialColumns}) VALUES ($id, $agent, $kind, $secret, $created, $expires, $revoked, $profiles, $maxRuns, $cpu, $purpose, $parent)",
            cancellationToken,
            ("$id", credential.Id), ("$agent", credential.AgentId), ("$kind", SqliteValues.Kind(credential.Kind)), ("$secret", credential.SecretSha256),
            ("$created", SqliteValues.Time(credential.CreatedAt)), ("$expires", SqliteValues.Time(credential.ExpiresAt)), ("$revoked", SqliteValues.Time(credential.RevokedAt)),
            ("$profiles", SqliteValues.List(credential.Profiles)), ("$maxRuns", credential.MaxRuns), ("$cpu", credential.CpuSeconds), ("$purpose", credential.Purpose),
            ("$parent", credential.ParentId));

    private static Agent ReadAgent(SqliteDataReader reader) => new()
    {
        Id = reader.GetString(0),
        Name = reader.GetString(1),
        Profiles = SqliteValues.ParseList(reader.GetString(2)),
        RatePerMinute = checked((int)reader.GetInt64(3)),
        MaxConcurrentRuns = checked((int)reader.GetInt64(4)),
        DailyCpuSeconds = reader.GetDouble(5),
        DailyRuns = checked((int)reader.GetInt64(6)),
        CreatedAt = SqliteValues.ParseTime(reader.GetString(7)),
        ExpiresAt = SqliteValues.ParseTime(reader.GetString(8)),
        RevokedAt = SqliteValues.NullableTime(reader, 9),
        RevokedReason = SqliteValues.NullableString(reader, 10),
        UnderApproval = reader.GetInt64(11) != 0,
        UnderApprovalReason = SqliteValues.NullableString(reader, 12),
        MaxSessionMemoryMb = checked((int)reader.GetInt64(13)),
        MaxOpenSessions = checked((int)reader.GetInt64(14)),
        DailyStoredMb = checked((int)reader.GetInt64(15)),
    };

    private static Credential ReadCredential(SqliteDataReader reader) => new()
    {
        Id = reader.GetString(0),
        AgentId = reader.GetString(1),
        Kind = SqliteValues.ParseKind(reader.GetString(2)),
        SecretSha256 = reader.GetString(3),
        CreatedAt = SqliteValues.ParseTime(reader.GetString(4)),
        ExpiresAt = SqliteValues.ParseTime(reader.GetString(5)),
        RevokedAt = SqliteValues.NullableTime(reader, 6),
        Profiles = reader.IsDBNull(7) ? null : SqliteValues.ParseList(reader.GetString(7)),
        MaxRuns = reader.IsDBNull(8) ? null : checked((int)reader.GetInt64(8)),
        CpuSeconds = reader.IsDBNull(9) ? null : reader.GetDouble(9),
        Purpose = SqliteValues.NullableString(reader, 10),
        ParentId = SqliteValues.NullableString(reader, 11),
    };
}
