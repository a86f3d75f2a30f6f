using System.Data.Common;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Tests.Store;

/// <summary>
/// Opening, migrations, agents, credentials, usage and approvals on a real database, the same for every store (see
/// <see cref="SqliteGuardStoreTests"/> and <see cref="PostgresGuardStoreTests"/>). The audit chain is in <see cref="GuardStoreAuditTests"/>.
/// </summary>
public abstract class GuardStoreTests(StoreBacking backing) : StoreContract(backing)
{
    /// <summary>The newest schema version of this store's migrations.</summary>
    protected abstract int LatestVersion { get; }

    // ---- opening and migrations ----

    [Fact]
    public async Task OpenAsync_Existing_KeepsDataAndAppliesNothingTwice()
    {
        var agent = Some.Agent();
        var first = await OpenAsync();
        (await first.CreateAgentAsync(agent, Some.Key(agent), Some.Admin("agent_created", agent.Id), Ct)).ShouldBeTrue();
        await first.DisposeAsync();

        var second = await OpenAsync();

        (await second.FindAgentAsync(agent.Id, Ct)).ShouldNotBeNull().Name.ShouldBe(agent.Name);
        (await RawScalarAsync<long>("SELECT COUNT(*) FROM schema_migrations")).ShouldBe(LatestVersion);
        (await second.VerifyAuditAsync(Ct)).RecordsChecked.ShouldBe(1);
    }

    [Fact]
    public async Task OpenAsync_NewerSchemaVersion_RefusesNamingBothVersions()
    {
        var store = await OpenAsync();
        await store.DisposeAsync();
        await RawAsync("INSERT INTO schema_migrations (version, applied_at) VALUES (99, '2030-01-01T00:00:00.0000000Z')");

        var thrown = await Should.ThrowAsync<InvalidOperationException>(() => Backing.OpenAsync(Clock, Ct));

        thrown.Message.ShouldContain("schema version 99");
        thrown.Message.ShouldContain($"up to {LatestVersion}");
        thrown.Message.ShouldContain("upgrade sandbox");
    }

    [Fact]
    public async Task OpenAsync_SeveralStoresAtOnceOnANewFile_AllOpenAndMigrateOnce()
    {
        var opened = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(OpenAsync, Ct)));

        opened.Length.ShouldBe(4);
        (await RawScalarAsync<long>("SELECT COUNT(*) FROM schema_migrations")).ShouldBe(LatestVersion);
    }

    [Fact]
    public async Task DisposeAsync_ThenUsed_Throws()
    {
        var store = await OpenAsync();
        await store.DisposeAsync();

        await Should.ThrowAsync<ObjectDisposedException>(() => store.ListAgentsAsync(Ct));
    }

    // ---- agents ----

    [Fact]
    public async Task CreateAgentAsync_New_FindsByIdAndNameWithEveryField()
    {
        var store = await OpenAsync();
        var agent = Some.Agent() with { UnderApproval = true, UnderApprovalReason = "new agent" };

        (await store.CreateAgentAsync(agent, Some.Key(agent), Some.Admin("agent_created", agent.Id), Ct)).ShouldBeTrue();

        foreach (var found in new[] { await store.FindAgentAsync(agent.Id, Ct), await store.FindAgentAsync(agent.Name, Ct) })
        {
            found.ShouldNotBeNull();
            found.Profiles.ShouldBe(agent.Profiles);
            (found with { Profiles = agent.Profiles }).ShouldBe(agent);
            found.CreatedAt.Offset.ShouldBe(TimeSpan.Zero);
        }

        (await store.FindAgentAsync("nobody", Ct)).ShouldBeNull();
        (await store.FindAgentAsync("agt_0000000000000000", Ct)).ShouldBeNull();
    }

    [Fact]
    public async Task FindAgentAsync_RowWrittenBeforeTheSessionMemoryColumn_HasTheDefaultCap()
    {
        var store = await OpenAsync();
        var agent = Some.Agent();
        (await store.CreateAgentAsync(agent, Some.Key(agent), Some.Admin("agent_created", agent.Id), Ct)).ShouldBeTrue();

        // A row as an older build wrote it: every column but max_session_memory_mb, which the migration added with a default.
        const string older = "id, name, profiles, rate_per_minute, max_concurrent_runs, daily_cpu_seconds, daily_runs, created_at, expires_at, under_approval";
        await RawAsync($"INSERT INTO agents ({older}) SELECT 'agt_00000000000000aa', 'older-agent', {older[(older.IndexOf("profiles", StringComparison.Ordinal))..]} FROM agents WHERE id = '{agent.Id}'");

        (await store.FindAgentAsync("older-agent", Ct)).ShouldNotBeNull().MaxSessionMemoryMb.ShouldBe(Agent.DefaultSessionMemoryMb);
        (await store.FindAgentAsync(agent.Id, Ct)).ShouldNotBeNull().MaxSessionMemoryMb.ShouldBe(777);
    }

    [Fact]
    public async Task FindAgentAsync_RowWrittenBeforeTheOpenSessionsColumn_HasTheDefaultCap()
    {
        var store = await OpenAsync();
        var agent = Some.Agent();
        (await store.CreateAgentAsync(agent, Some.Key(agent), Some.Admin("agent_created", agent.Id), Ct)).ShouldBeTrue();

        // A row as the build before it wrote it: every column but max_open_sessions, which the migration added with a default.
        const string older = "id, name, profiles, rate_per_minute, max_concurrent_runs, daily_cpu_seconds, daily_runs, created_at, expires_at, under_approval, max_session_memory_mb";
        await RawAsync($"INSERT INTO agents ({older}) SELECT 'agt_00000000000000ab', 'older-agent', {older[(older.IndexOf("profiles", StringComparison.Ordinal))..]} FROM agents WHERE id = '{agent.Id}'");

        (await store.FindAgentAsync("older-agent", Ct)).ShouldNotBeNull().MaxOpenSessions.ShouldBe(Agent.DefaultOpenSessions);
        (await store.FindAgentAsync(agent.Id, Ct)).ShouldNotBeNull().MaxOpenSessions.ShouldBe(7);
    }

    [Fact]
    public async Task FindAgentAsync_RowWrittenBeforeTheStoredBudgetColumn_HasTheDefaultBudget()
    {
        var store = await OpenAsync();
        var agent = Some.Agent();
        (await store.CreateAgentAsync(agent, Some.Key(agent), Some.Admin("agent_created", agent.Id), Ct)).ShouldBeTrue();

        // A row as the build before it wrote it: every column but daily_stored_mb, which the migration added with a default.
        const string older = "id, name, profiles, rate_per_minute, max_concurrent_runs, daily_cpu_seconds, daily_runs, created_at, expires_at, under_approval, max_session_memory_mb, max_open_sessions";
        await RawAsync($"INSERT INTO agents ({older}) SELECT 'agt_00000000000000ac', 'older-agent', {older[(older.IndexOf("profiles", StringComparison.Ordinal))..]} FROM agents WHERE id = '{agent.Id}'");

        (await store.FindAgentAsync("older-agent", Ct)).ShouldNotBeNull().DailyStoredMb.ShouldBe(Agent.DefaultDailyStoredMb);
        (await store.FindAgentAsync(agent.Id, Ct)).ShouldNotBeNull().DailyStoredMb.ShouldBe(333);
    }

    [Fact]
    public async Task CreateAgentAsync_New_StoresKeyAndAuditRecordTogether()
    {
        var store = await OpenAsync();
        var agent = Some.Agent();
        var key = Some.Key(agent);

        await store.CreateAgentAsync(agent, key, Some.Admin("agent_created", agent.Id), Ct);

        var stored = (await store.FindCredentialAsync(key.Id, Ct)).ShouldNotBeNull();
        stored.ShouldBe(key);
        var audit = await store.QueryAuditAsync(new AuditQuery { Kind = AuditKinds.Admin }, Ct);
        audit.ShouldHaveSingleItem().AgentId.ShouldBe(agent.Id);
        audit[0].Status.ShouldBe("agent_created");
    }

    [Fact]
    public async Task CreateAgentAsync_NameTaken_ReturnsFalseAndWritesNothing()
    {
        var store = await OpenAsync();
        var first = Some.Agent("ci-bot");
        await store.CreateAgentAsync(first, Some.Key(first), Some.Admin("agent_created", first.Id), Ct);
        var second = Some.Agent("ci-bot");
        var secondKey = Some.Key(second);

        (await store.CreateAgentAsync(second, secondKey, Some.Admin("agent_created", second.Id), Ct)).ShouldBeFalse();

        (await store.FindAgentAsync(second.Id, Ct)).ShouldBeNull();
        (await store.FindCredentialAsync(secondKey.Id, Ct)).ShouldBeNull();
        (await store.QueryAuditAsync(new AuditQuery(), Ct)).ShouldHaveSingleItem().AgentId.ShouldBe(first.Id);
    }

    [Fact]
    public async Task CreateAgentAsync_KeyOfAnotherAgent_Throws()
    {
        var store = await OpenAsync();
        var agent = Some.Agent();

        await Should.ThrowAsync<ArgumentException>(() => store.CreateAgentAsync(agent, Some.Key(Some.Agent("other")), Some.Admin("agent_created"), Ct));
    }

    [Fact]
    public async Task ListAgentsAsync_SeveralAgents_AllByName()
    {
        var store = await OpenAsync();
        foreach (var name in new[] { "zeta", "alpha", "mid" })
        {
            var agent = Some.Agent(name);
            await store.CreateAgentAsync(agent, Some.Key(agent), Some.Admin("agent_created", agent.Id), Ct);
        }

        (await store.ListAgentsAsync(Ct)).Select(a => a.Name).ShouldBe(["alpha", "mid", "zeta"]);
    }

    // ---- credentials ----

    [Fact]
    public async Task RotateKeyAsync_LiveAgent_RevokesOldKeyAndItsTokensStoresNewKey()
    {
        var store = await OpenAsync();
        var (agent, oldKey) = await CreateAgentAsync(store);
        var token = Some.Token(agent) with { ParentId = oldKey.Id };
        await store.AddTaskTokenAsync(token, Some.Entry(AuditKinds.Admin), Ct);
        var newKey = Some.Key(agent, createdAt: agent.CreatedAt.AddDays(1));

        (await store.RotateKeyAsync(agent.Id, newKey, Some.Admin("key_rotated", agent.Id), Ct)).ShouldBeTrue();

        (await store.FindCredentialAsync(oldKey.Id, Ct)).ShouldNotBeNull().RevokedAt.ShouldBe(newKey.CreatedAt);
        (await store.FindCredentialAsync(newKey.Id, Ct)).ShouldNotBeNull().RevokedAt.ShouldBeNull();
        var storedToken = (await store.FindCredentialAsync(token.Id, Ct)).ShouldNotBeNull();
        storedToken.RevokedAt.ShouldBe(newKey.CreatedAt, "a token dies with the key that minted it");
        storedToken.Profiles.ShouldBe(token.Profiles);
        (storedToken with { Profiles = token.Profiles, RevokedAt = null }).ShouldBe(token);
        (await store.QueryAuditAsync(new AuditQuery { Status = "key_rotated" }, Ct)).ShouldHaveSingleItem();
    }

    [Fact]
    public async Task RotateKeyAsync_UnknownOrRevokedAgent_ReturnsFalseAndWritesNothing()
    {
        var store = await OpenAsync();
        var (agent, _) = await CreateAgentAsync(store);
        await store.RevokeAgentAsync(agent.Id, Some.Now, "leaked", Some.Admin("agent_revoked", agent.Id), Ct);
        var stranger = Some.Agent("stranger");
        var newKey = Some.Key(agent);

        (await store.RotateKeyAsync(stranger.Id, Some.Key(stranger), Some.Admin("key_rotated"), Ct)).ShouldBeFalse();
        (await store.RotateKeyAsync(agent.Id, newKey, Some.Admin("key_rotated", agent.Id), Ct)).ShouldBeFalse();

        (await store.FindCredentialAsync(newKey.Id, Ct)).ShouldBeNull();
        (await store.QueryAuditAsync(new AuditQuery { Status = "key_rotated" }, Ct)).ShouldBeEmpty();
    }

    [Fact]
    public async Task RevokeAgentAsync_Live_RevokesAgentKeyAndTokensOnce()
    {
        var store = await OpenAsync();
        var (agent, key) = await CreateAgentAsync(store);
        var token = Some.Token(agent);
        await store.AddTaskTokenAsync(token, Some.Entry(AuditKinds.Admin), Ct);
        var at = Some.Now.AddDays(2);

        (await store.RevokeAgentAsync(agent.Id, at, "leaked in a log", Some.Admin("agent_revoked", agent.Id), Ct)).ShouldBeTrue();
        (await store.RevokeAgentAsync(agent.Id, at.AddDays(1), "again", Some.Admin("agent_revoked", agent.Id), Ct)).ShouldBeFalse();

        var revoked = (await store.FindAgentAsync(agent.Id, Ct)).ShouldNotBeNull();
        revoked.RevokedAt.ShouldBe(at);
        revoked.RevokedReason.ShouldBe("leaked in a log");
        revoked.IsActive(at).ShouldBeFalse();
        (await store.ListCredentialsAsync(agent.Id, Ct)).ShouldAllBe(c => c.RevokedAt == at);
        (await store.FindCredentialAsync(key.Id, Ct)).ShouldNotBeNull().RevokedAt.ShouldBe(at);
        (await store.QueryAuditAsync(new AuditQuery { Status = "agent_revoked" }, Ct)).ShouldHaveSingleItem();
        (await store.RevokeAgentAsync("agt_ffffffffffffffff", at, "unknown", Some.Admin("agent_revoked"), Ct)).ShouldBeFalse();
    }

    [Fact]
    public async Task RevokeAgentAsync_AuditAppendFails_NothingIsRevoked()
    {
        var store = await OpenAsync();
        var (agent, key) = await CreateAgentAsync(store);

        // The audit entry is invalid, so appending it throws after the UPDATEs inside the transaction.
        await Should.ThrowAsync<ArgumentException>(() => store.RevokeAgentAsync(agent.Id, Some.Now, "x", new AuditEntry { Kind = "" }, Ct));

        (await store.FindAgentAsync(agent.Id, Ct)).ShouldNotBeNull().RevokedAt.ShouldBeNull();
        (await store.FindCredentialAsync(key.Id, Ct)).ShouldNotBeNull().RevokedAt.ShouldBeNull();
    }

    [Fact]
    public async Task SetUnderApprovalAsync_SetThenClear_StoresReasonAndClearsIt()
    {
        var store = await OpenAsync();
        var (agent, _) = await CreateAgentAsync(store);

        (await store.SetUnderApprovalAsync(agent.Id, true, "loop alert", Some.Admin("hold_set", agent.Id), Ct)).ShouldBeTrue();
        var held = (await store.FindAgentAsync(agent.Id, Ct)).ShouldNotBeNull();
        held.UnderApproval.ShouldBeTrue();
        held.UnderApprovalReason.ShouldBe("loop alert");

        (await store.SetUnderApprovalAsync(agent.Id, false, null, Some.Admin("hold_cleared", agent.Id), Ct)).ShouldBeTrue();
        var cleared = (await store.FindAgentAsync(agent.Id, Ct)).ShouldNotBeNull();
        cleared.UnderApproval.ShouldBeFalse();
        cleared.UnderApprovalReason.ShouldBeNull();

        (await store.SetUnderApprovalAsync("agt_ffffffffffffffff", true, "x", Some.Admin("hold_set"), Ct)).ShouldBeFalse();
        (await store.QueryAuditAsync(new AuditQuery { Kind = AuditKinds.Admin }, Ct)).Select(r => r.Status).ShouldBe(["agent_created", "hold_set", "hold_cleared"]);
    }

    [Fact]
    public async Task AddTaskTokenAsync_RevokedAgent_ThrowsAndStoresNothing()
    {
        var store = await OpenAsync();
        var (agent, _) = await CreateAgentAsync(store);
        await store.RevokeAgentAsync(agent.Id, Some.Now, "leaked", Some.Admin("agent_revoked", agent.Id), Ct);
        var token = Some.Token(agent);

        await Should.ThrowAsync<InvalidOperationException>(() => store.AddTaskTokenAsync(token, Some.Entry(AuditKinds.Admin, status: "token_minted"), Ct));

        (await store.FindCredentialAsync(token.Id, Ct)).ShouldBeNull();
        (await store.QueryAuditAsync(new AuditQuery { Status = "token_minted" }, Ct)).ShouldBeEmpty();
    }

    [Fact]
    public async Task ListCredentialsAsync_KeysAndTokens_NewestFirst()
    {
        var store = await OpenAsync();
        var (agent, key) = await CreateAgentAsync(store);
        var older = Some.Token(agent, createdAt: agent.CreatedAt.AddMinutes(1));
        var newer = Some.Token(agent, createdAt: agent.CreatedAt.AddMinutes(2));
        await store.AddTaskTokenAsync(newer, Some.Entry(AuditKinds.Admin), Ct);
        await store.AddTaskTokenAsync(older, Some.Entry(AuditKinds.Admin), Ct);

        (await store.ListCredentialsAsync(agent.Id, Ct)).Select(c => c.Id).ShouldBe([newer.Id, older.Id, key.Id]);
        (await store.ListCredentialsAsync("agt_ffffffffffffffff", Ct)).ShouldBeEmpty();
    }

    // ---- usage ----

    [Fact]
    public async Task AddUsageAsync_SeveralCalls_AddsPerSubjectAndPeriod()
    {
        var store = await OpenAsync();

        (await store.GetUsageAsync("agt_a", "2026-03-01", Ct)).ShouldBe(Usage.Zero);
        await store.AddUsageAsync("agt_a", "2026-03-01", 1, 250, Ct);
        await store.AddUsageAsync("agt_a", "2026-03-01", 2, 1000, Ct);
        await store.AddUsageAsync("agt_a", "2026-03-02", 1, 5, Ct);
        await store.AddUsageAsync("tok_b", "life", 1, 7, Ct);

        (await store.GetUsageAsync("agt_a", "2026-03-01", Ct)).ShouldBe(new Usage(3, 1250));
        (await store.GetUsageAsync("agt_a", "2026-03-02", Ct)).ShouldBe(new Usage(1, 5));
        (await store.GetUsageAsync("tok_b", "life", Ct)).ShouldBe(new Usage(1, 7));
        (await store.GetUsageAsync("tok_b", "2026-03-01", Ct)).ShouldBe(Usage.Zero);
    }

    [Fact]
    public async Task CommitAsync_ChargesStoredBytes_AddsThemPerSubjectAndPeriod()
    {
        var store = await OpenAsync();

        await store.CommitAsync(new RunTransition { Charges = [new UsageCharge("agt_a", "2026-03-01", 1, 0, 600_000)] }, Ct);
        await store.CommitAsync(new RunTransition { Charges = [new UsageCharge("agt_a", "2026-03-01", 0, 40, 500_000), new UsageCharge("agt_a", "2026-03-02", 0, 0, 7)] }, Ct);
        await store.AddUsageAsync("agt_a", "2026-03-01", 1, 10, Ct);

        (await store.GetUsageAsync("agt_a", "2026-03-01", Ct)).ShouldBe(new Usage(2, 50, 1_100_000));
        (await store.GetUsageAsync("agt_a", "2026-03-02", Ct)).ShouldBe(new Usage(0, 0, 7));
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => store.CommitAsync(new RunTransition { Charges = [new UsageCharge("agt_a", "2026-03-01", 0, 0, -1)] }, Ct));
    }

    [Fact]
    public async Task AddUsageAsync_ConcurrentFromTwoStores_LosesNothing()
    {
        var stores = new[] { await OpenAsync(), await OpenAsync() };

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() => stores[i % 2].AddUsageAsync("agt_a", "life", 1, 10, Ct), Ct)));

        (await stores[0].GetUsageAsync("agt_a", "life", Ct)).ShouldBe(new Usage(40, 400));
    }

    [Fact]
    public async Task AddUsageAsync_Negative_Throws()
    {
        var store = await OpenAsync();

        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => store.AddUsageAsync("agt_a", "life", -1, 0, Ct));
    }

    // ---- approvals ----

    [Fact]
    public async Task CreateApprovalAsync_New_FindsAndListsByState()
    {
        var store = await OpenAsync();
        var (agent, _) = await CreateAgentAsync(store);
        var older = Some.Approval(agent, Some.Now);
        var newer = Some.Approval(agent, Some.Now.AddMinutes(1));
        var decided = Some.Approval(agent, Some.Now.AddMinutes(2));
        foreach (var approval in new[] { older, newer, decided })
        {
            await store.CreateApprovalAsync(approval, Ct);
        }

        await store.DecideApprovalAsync(decided.Id, ApprovalState.Denied, "alice", null, Some.Now.AddMinutes(3), Some.Entry(AuditKinds.Approval), Ct);

        // Files is a list, compared by reference in a record: compared apart.
        var found = (await store.FindApprovalAsync(older.Id, Ct)).ShouldNotBeNull();
        found.Files.ShouldBeEmpty();
        (found with { Files = older.Files }).ShouldBe(older);
        (await store.FindApprovalAsync("apr_ffffffffffffffff", Ct)).ShouldBeNull();
        (await store.ListApprovalsAsync(ApprovalState.Pending, Ct)).Select(a => a.Id).ShouldBe([newer.Id, older.Id]);
        (await store.ListApprovalsAsync(ApprovalState.Denied, Ct)).Select(a => a.Id).ShouldBe([decided.Id]);
        (await store.ListApprovalsAsync(null, Ct)).Select(a => a.Id).ShouldBe([decided.Id, newer.Id, older.Id]);
    }

    [Fact]
    public async Task DecideApprovalAsync_Pending_DecidesOnceWithItsAuditRecord()
    {
        var store = await OpenAsync();
        var (agent, _) = await CreateAgentAsync(store);
        var approval = Some.Approval(agent);
        await store.CreateApprovalAsync(approval, Ct);
        var at = Some.Now.AddMinutes(5);

        var decided = await store.DecideApprovalAsync(approval.Id, ApprovalState.Approved, "alice", "looks fine", at,
            Some.Entry(AuditKinds.Approval, approval.RunId, "approved", agent.Id), Ct);
        var again = await store.DecideApprovalAsync(approval.Id, ApprovalState.Denied, "bob", "no", at.AddMinutes(1),
            Some.Entry(AuditKinds.Approval, approval.RunId, "denied", agent.Id), Ct);

        decided.ShouldNotBeNull().Files.ShouldBeEmpty();
        (decided with { Files = approval.Files }).ShouldBe(approval with { State = ApprovalState.Approved, DecidedBy = "alice", DecidedAt = at, Note = "looks fine" });
        again.ShouldBeNull();
        ((await store.FindApprovalAsync(approval.Id, Ct)).ShouldNotBeNull() with { Files = decided.Files }).ShouldBe(decided);
        var records = await store.QueryAuditAsync(new AuditQuery { Kind = AuditKinds.Approval }, Ct);
        records.ShouldHaveSingleItem().Status.ShouldBe("approved");
        records[0].RunId.ShouldBe(approval.RunId);
    }

    [Fact]
    public async Task DecideApprovalAsync_RacingDeciders_ExactlyOneWins()
    {
        var store = await OpenAsync();
        var (agent, _) = await CreateAgentAsync(store);
        var approval = Some.Approval(agent);
        await store.CreateApprovalAsync(approval, Ct);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            store.DecideApprovalAsync(approval.Id, i % 2 == 0 ? ApprovalState.Approved : ApprovalState.Denied, $"op{i}", null, Some.Now,
                Some.Entry(AuditKinds.Approval, approval.RunId, "decided", agent.Id), Ct), Ct)));

        results.Count(r => r is not null).ShouldBe(1);
        (await store.QueryAuditAsync(new AuditQuery { Kind = AuditKinds.Approval }, Ct)).ShouldHaveSingleItem();
    }

    [Fact]
    public async Task DecideApprovalAsync_UnknownOrToPending_NullOrThrows()
    {
        var store = await OpenAsync();

        (await store.DecideApprovalAsync("apr_ffffffffffffffff", ApprovalState.Expired, "system", null, Some.Now, Some.Entry(AuditKinds.Approval), Ct)).ShouldBeNull();
        await Should.ThrowAsync<ArgumentException>(() => store.DecideApprovalAsync("apr_ffffffffffffffff", ApprovalState.Pending, "system", null, Some.Now, Some.Entry(AuditKinds.Approval), Ct));
        (await store.QueryAuditAsync(new AuditQuery(), Ct)).ShouldBeEmpty();
    }

    [Fact]
    public async Task CreateApprovalAsync_UnknownAgent_IsRefusedByTheDatabase()
    {
        var store = await OpenAsync();

        await Should.ThrowAsync<DbException>(() => store.CreateApprovalAsync(Some.Approval(Some.Agent()), Ct));
    }

    protected static async Task<(Agent Agent, Credential Key)> CreateAgentAsync(IGuardStore store, string name = "ci-bot")
    {
        var agent = Some.Agent(name);
        var key = Some.Key(agent);
        (await store.CreateAgentAsync(agent, key, Some.Admin("agent_created", agent.Id), Ct)).ShouldBeTrue();
        return (agent, key);
    }
}
