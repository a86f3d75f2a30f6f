using System.Diagnostics;
using System.Threading.Channels;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Tests.Store;

/// <summary>The store contract (<see cref="GuardStoreTests"/>) on a real PostgreSQL database, and what only a server has.</summary>
public sealed class PostgresGuardStoreTests(PostgresCluster cluster) : GuardStoreTests(new PostgresBacking(cluster))
{
    protected override int LatestVersion => PostgresMigrations.LatestVersion;

    [Fact]
    public async Task OpenAsync_NewDatabase_CreatesSchemaWithAppendOnlyAudit()
    {
        await OpenAsync();

        (await RawScalarAsync<long>("SELECT MAX(version) FROM schema_migrations")).ShouldBe(PostgresMigrations.LatestVersion);
        (await RawScalarAsync<long>("SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename IN ('agents', 'credentials', 'usage', 'approvals', 'audit', 'runs', 'run_inputs', 'run_output')")).ShouldBe(8);
        (await RawScalarAsync<long>("SELECT COUNT(*) FROM pg_trigger WHERE tgrelid = 'audit'::regclass AND NOT tgisinternal")).ShouldBe(3);
    }

    [Fact]
    public async Task OpenAsync_ServerUnreachable_ThrowsAStoreFailure()
    {
        var unreachable = new Npgsql.NpgsqlConnectionStringBuilder(((PostgresBacking)Backing).ConnectionString) { Port = 1, Timeout = 2 }.ToString();

        var thrown = await Should.ThrowAsync<Exception>(() => PostgresGuardStore.OpenAsync(unreachable, Clock, Ct));

        PostgresGuardStore.IsStoreFailure(thrown).ShouldBeTrue(thrown.ToString());
    }

    [Fact]
    public async Task GuardDecisions_CommittedThroughOneStore_AreAnnouncedToAListenerOnAnother_RefusedOnesAreNot()
    {
        var writer = await OpenAsync();
        var node = (IGuardChangeFeed)await OpenAsync();
        var (agent, _) = await CreateAgentAsync(writer);
        var approval = Some.Approval(agent);
        await writer.CreateApprovalAsync(approval, Ct);

        var changes = Channel.CreateUnbounded<string>();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var listening = node.ListenAsync(c => changes.Writer.TryWrite(c), ready.SetResult, stop.Token);
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        async Task<string> NextAsync()
        {
            var clock = Stopwatch.StartNew();
            var change = await changes.Reader.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct);
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(1), change + " was announced late");
            return change;
        }

        (await writer.SetUnderApprovalAsync(agent.Id, true, "looping", Some.Admin("agent_held", agent.Id), Ct)).ShouldBeTrue();
        (await NextAsync()).ShouldBe("held:" + agent.Id);
        (await writer.SetUnderApprovalAsync(agent.Id, false, null, Some.Admin("agent_released", agent.Id), Ct)).ShouldBeTrue();
        (await NextAsync()).ShouldBe("released:" + agent.Id);
        (await writer.DecideApprovalAsync(approval.Id, ApprovalState.Approved, "alice", null, Some.Now, Some.Entry(AuditKinds.Approval), Ct)).ShouldNotBeNull();
        (await NextAsync()).ShouldBe("decided:" + approval.Id);
        (await writer.RotateKeyAsync(agent.Id, Some.Key(agent, Some.Now.AddMinutes(1)), Some.Admin("key_rotated", agent.Id), Ct)).ShouldBeTrue();
        (await NextAsync()).ShouldBe("rotated:" + agent.Id);
        (await writer.RevokeAgentAsync(agent.Id, Some.Now, "leaked", Some.Admin("agent_revoked", agent.Id), Ct)).ShouldBeTrue();
        (await NextAsync()).ShouldBe("revoked:" + agent.Id);

        // Refused decisions roll back, and a rolled-back NOTIFY is never delivered: no node acts on what did not happen.
        (await writer.RevokeAgentAsync(agent.Id, Some.Now, "again", Some.Admin("agent_revoked", agent.Id), Ct)).ShouldBeFalse();
        (await writer.DecideApprovalAsync(approval.Id, ApprovalState.Denied, "bob", null, Some.Now, Some.Entry(AuditKinds.Approval), Ct)).ShouldBeNull();
        await Task.Delay(300, Ct);
        changes.Reader.TryRead(out var stray).ShouldBeFalse(stray);

        await stop.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(() => listening);
    }
}
