using System.Text.Json.Nodes;
using System.Data.Common;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Guard.Alerts;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Tests.Store;

/// <summary>Runs and their idempotency keys kept on a real database for the retention period (issue 11, point 2), for every store.</summary>
public abstract class GuardStoreRunsTests(StoreBacking backing) : StoreContract(backing)
{
    [Fact]
    public async Task AdmitRunAsync_WithReceipt_WritesRowAndReceiptTogether_AndBothSurviveReopening()
    {
        var store = await OpenAsync();
        var run = Run("agt_a", "agt_a\nkey-1");

        await store.AdmitRunAsync(run, Some.Entry(AuditKinds.Receipt, run.RunId, "planned", run.AgentId), Ct);
        await store.DisposeAsync();
        var reopened = await OpenAsync();

        (await reopened.FindRunAsync(run.RunId, Ct)).ShouldBe(run);
        (await reopened.FindRunByIdempotencyKeyAsync("agt_a\nkey-1", Ct)).ShouldNotBeNull().RunId.ShouldBe(run.RunId);
        (await reopened.QueryAuditAsync(new AuditQuery { RunId = run.RunId, Kind = AuditKinds.Receipt }, Ct)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task AdmitRunAsync_KeyAlreadyBound_ThrowsAndWritesNeitherRowNorReceipt()
    {
        var store = await OpenAsync();
        await store.AdmitRunAsync(Run("agt_a", "agt_a\nkey-1"), receipt: null, Ct);
        var second = Run("agt_a", "agt_a\nkey-1");

        await Should.ThrowAsync<DbException>(() => store.AdmitRunAsync(second, Some.Entry(AuditKinds.Receipt, second.RunId, "planned"), Ct));

        (await store.FindRunAsync(second.RunId, Ct)).ShouldBeNull();
        (await store.QueryAuditAsync(new AuditQuery { RunId = second.RunId }, Ct)).ShouldBeEmpty("the receipt is in the same transaction as the row");
    }

    [Fact]
    public async Task AdmitRunAsync_SameKeyOtherScope_BothKept()
    {
        var store = await OpenAsync();

        await store.AdmitRunAsync(Run("agt_a", "agt_a\nkey-1"), receipt: null, Ct);
        await store.AdmitRunAsync(Run("agt_b", "agt_b\nkey-1"), receipt: null, Ct);

        (await store.FindRunByIdempotencyKeyAsync("agt_b\nkey-1", Ct)).ShouldNotBeNull().AgentId.ShouldBe("agt_b");
    }

    [Fact]
    public async Task AppendRunOutputAsync_OpenRun_KeptInOrderUntilItsEndWhichDeletesThem()
    {
        var store = await OpenAsync();
        var run = Run("agt_a", key: null);
        var other = Run("agt_a", key: null);
        await store.AdmitRunAsync(run, receipt: null, Ct);
        await store.AdmitRunAsync(other, receipt: null, Ct);

        await store.AppendRunOutputAsync([new(run.RunId, false, "one\n"u8.ToArray()), new(run.RunId, true, "err\n"u8.ToArray()), new(other.RunId, false, "x"u8.ToArray())], Ct);
        await store.AppendRunOutputAsync([new(run.RunId, false, "two\n"u8.ToArray()), new("run_unknown", false, "y"u8.ToArray())], Ct);

        (await store.ReadRunOutputAsync(run.RunId, Ct)).Select(c => (c.IsStderr, System.Text.Encoding.UTF8.GetString(c.Bytes.Span)))
            .ShouldBe([(false, "one\n"), (true, "err\n"), (false, "two\n")]);
        (await store.ReadRunOutputAsync("run_unknown", Ct)).ShouldBeEmpty("no row, no chunks");

        (await store.CompleteRunAsync(run.RunId, "ok", null, Some.Now, "{}", null, Ct)).ShouldBeTrue();
        (await store.ReadRunOutputAsync(run.RunId, Ct)).ShouldBeEmpty("its end holds the output in its view: one copy");
        await store.AppendRunOutputAsync([new(run.RunId, false, "late"u8.ToArray())], Ct);
        (await store.ReadRunOutputAsync(run.RunId, Ct)).ShouldBeEmpty("a flush landing after the end adds nothing back");
        (await store.ReadRunOutputAsync(other.RunId, Ct)).ShouldHaveSingleItem("another run's chunks are its own");
    }

    [Fact]
    public async Task ReadRunOutputAfterAsync_PagesThroughOneRunsChunksInOrder_AndFindsNoneOnceItEnded()
    {
        var store = await OpenAsync();
        var run = Run("agt_a", key: null);
        var other = Run("agt_a", key: null);
        await store.AdmitRunAsync(run, receipt: null, Ct);
        await store.AdmitRunAsync(other, receipt: null, Ct);
        for (var i = 0; i < 5; i++)
        {
            await store.AppendRunOutputAsync([new(run.RunId, i == 3, System.Text.Encoding.UTF8.GetBytes($"{i}")), new(other.RunId, false, "x"u8.ToArray())], Ct);
        }

        var pages = new List<IReadOnlyList<RunOutputChunk>>();
        long after = 0;
        while (await store.ReadRunOutputAfterAsync(run.RunId, after, 2, Ct) is { Count: > 0 } page)
        {
            pages.Add(page);
            after = page[^1].Seq;
        }

        pages.Select(p => p.Count).ShouldBe([2, 2, 1], "at most max chunks per read");
        pages.SelectMany(p => p).Select(c => (c.IsStderr, System.Text.Encoding.UTF8.GetString(c.Bytes.Span))).ShouldBe([(false, "0"), (false, "1"), (false, "2"), (true, "3"), (false, "4")]);
        pages.SelectMany(p => p).Select(c => c.Seq).ShouldBeInOrder(SortDirection.Ascending);
        (await store.ReadRunOutputAsync(run.RunId, Ct)).Select(c => c.Seq).ShouldBe(pages.SelectMany(p => p).Select(c => c.Seq), "the same order and seq as the whole read");

        (await store.CompleteRunAsync(run.RunId, "ok", null, Some.Now, "{}", null, Ct)).ShouldBeTrue();
        (await store.ReadRunOutputAfterAsync(run.RunId, 0, 10, Ct)).ShouldBeEmpty("its end deleted them");
    }

    [Fact]
    public async Task CompleteRunAsync_FirstEndWins()
    {
        var store = await OpenAsync();
        var run = Run("agt_a", key: null);
        await store.AdmitRunAsync(run, receipt: null, Ct);
        var at = Some.Now.AddSeconds(3);

        (await store.CompleteRunAsync(run.RunId, "ok", null, at, "{\"id\":\"x\"}", at.AddMinutes(15), Ct)).ShouldBeTrue();
        (await store.CompleteRunAsync(run.RunId, "interrupted", "late", at.AddSeconds(1), null, null, Ct)).ShouldBeFalse();

        var stored = (await store.FindRunAsync(run.RunId, Ct)).ShouldNotBeNull();
        stored.State.ShouldBe("completed");
        stored.Status.ShouldBe("ok");
        stored.CompletedAt.ShouldBe(at);
        stored.View.ShouldBe("{\"id\":\"x\"}");
        stored.ExpiresAt.ShouldBe(at.AddMinutes(15), "retention counts from the end, as in memory");
        (await store.CompleteRunAsync("run_unknown", "ok", null, at, null, null, Ct)).ShouldBeFalse();
    }

    [Fact]
    public async Task DeleteExpiredRunsAsync_DeletesOnlyExpired_AtMostMaxPerCall()
    {
        var store = await OpenAsync();
        for (var i = 0; i < 3; i++)
        {
            await store.AdmitRunAsync(Run("agt_a", $"agt_a\nold-{i}") with { ExpiresAt = Some.Now.AddMinutes(-i - 1) }, receipt: null, Ct);
        }

        var live = Run("agt_a", "agt_a\nlive");
        await store.AdmitRunAsync(live, receipt: null, Ct);

        (await store.DeleteExpiredRunsAsync(Some.Now, max: 2, Ct)).ShouldBe(2);
        (await store.DeleteExpiredRunsAsync(Some.Now, max: 2, Ct)).ShouldBe(1);
        (await store.DeleteExpiredRunsAsync(Some.Now, max: 2, Ct)).ShouldBe(0);

        (await store.FindRunAsync(live.RunId, Ct)).ShouldNotBeNull();
        (await store.FindRunByIdempotencyKeyAsync("agt_a\nold-0", Ct)).ShouldBeNull("an expired key is free again");
    }

    [Fact]
    public async Task AdmitRunAsync_WithInputs_KeepsThemUntilTheRowExpires_ThenDeletesThemWithIt()
    {
        var store = await OpenAsync();
        var run = Run("agt_a", key: null) with { Inputs = """{"request":{"code":"print(1)"}}""", ExpiresAt = Some.Now.AddMinutes(1) };
        var without = Run("agt_a", key: null);
        await store.AdmitRunAsync(run, receipt: null, Ct);
        await store.AdmitRunAsync(without, receipt: null, Ct);

        (await store.FindRunInputsAsync(run.RunId, Ct)).ShouldBe(run.Inputs);
        (await store.FindRunInputsAsync(without.RunId, Ct)).ShouldBeNull("a run admitted without inputs has none to replay");

        (await store.DeleteExpiredRunsAsync(Some.Now.AddMinutes(2), max: 10, Ct)).ShouldBeGreaterThanOrEqualTo(1);

        (await store.FindRunAsync(run.RunId, Ct)).ShouldBeNull();
        (await store.FindRunInputsAsync(run.RunId, Ct)).ShouldBeNull("the inputs go with the row, not after it");
    }

    [Fact]
    public async Task ReconcileAsync_RunOpenAtACrash_ItsRowIsCompletedInterrupted()
    {
        var store = await OpenAsync();
        var run = Run("agt_a", "agt_a\nkey-1");
        await store.AppendAsync(new AuditEntry { Kind = AuditKinds.Request, AgentId = run.AgentId, RunId = run.RunId, Status = "received", Data = new JsonObject { ["node"] = "this-node" } }, Ct);
        await store.AppendAsync(new AuditEntry { Kind = AuditKinds.Decision, AgentId = run.AgentId, RunId = run.RunId, Status = "allowed" }, Ct);
        await store.AdmitRunAsync(run, Some.Entry(AuditKinds.Receipt, run.RunId, "planned", run.AgentId), Ct);
        var guard = new RunGuard(store, new GuardOptions { NodeId = "this-node" }, NullAlertSink.Instance, Clock, NullLogger<RunGuard>.Instance);

        (await guard.ReconcileAsync(skip: null, Ct)).ShouldBe(1);

        var stored = (await store.FindRunAsync(run.RunId, Ct)).ShouldNotBeNull();
        stored.State.ShouldBe("completed");
        stored.Status.ShouldBe("interrupted");
        stored.Reason.ShouldNotBeNull().ShouldContain("reconciled at start-up");
        stored.View.ShouldBeNull();
    }

    [Fact]
    public async Task CommitAsync_AnAuditAppendFails_NothingOfTheTransitionIsWritten()
    {
        // A full disk mid-transition (here: the audit insert): neither the row, nor the usage, nor the first record stays.
        var store = await OpenAsync();
        var run = Run("agt_a", "agt_a\nkey-1");
        await FailWritesAsync("audit_full", "INSERT", "audit", "NEW.kind = 'receipt'");

        await Should.ThrowAsync<DbException>(() => store.CommitAsync(new RunTransition
        {
            Admit = run,
            Charges = [new UsageCharge("agt_a", "2026-03-01", 1, 0)],
            Audit = [Some.Entry(AuditKinds.Decision, run.RunId, "allowed", run.AgentId), Some.Entry(AuditKinds.Receipt, run.RunId, "planned", run.AgentId)],
        }, Ct));

        (await store.FindRunAsync(run.RunId, Ct)).ShouldBeNull();
        (await store.FindRunByIdempotencyKeyAsync("agt_a\nkey-1", Ct)).ShouldBeNull("the key stays free for the retry");
        (await store.GetUsageAsync("agt_a", "2026-03-01", Ct)).ShouldBe(Usage.Zero);
        (await store.QueryAuditAsync(new AuditQuery { RunId = run.RunId }, Ct)).ShouldBeEmpty();
    }

    [Fact]
    public async Task CommitAsync_CompletingACompletedRun_IsFalse_AndChargesNothing()
    {
        var store = await OpenAsync();
        var run = Run("agt_a", key: null);
        await store.AdmitRunAsync(run, receipt: null, Ct);
        var end = new RunTransition
        {
            Complete = new RunCompletion(run.RunId, "ok", null, Some.Now, "{}", null),
            Charges = [new UsageCharge("agt_a", "2026-03-01", 0, 250)],
            Audit = [Some.Entry(AuditKinds.Result, run.RunId, "ok", run.AgentId)],
        };

        (await store.CommitAsync(end, Ct)).ShouldBeTrue();
        (await store.CommitAsync(end, Ct)).ShouldBeFalse("the first end wins");

        (await store.GetUsageAsync("agt_a", "2026-03-01", Ct)).CpuMs.ShouldBe(250, "charged once");
        (await store.QueryAuditAsync(new AuditQuery { RunId = run.RunId, Kind = AuditKinds.Result }, Ct)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task CommitAsync_CompletionOfARunWithoutARow_StillWritesItsRecords()
    {
        // A run refused after the guard allowed it (the queue filled) has no row; its result record must still land.
        var store = await OpenAsync();

        (await store.CommitAsync(new RunTransition
        {
            Complete = new RunCompletion("run_norow", "rejected", null, Some.Now, null, null),
            Audit = [Some.Entry(AuditKinds.Result, "run_norow", "rejected")],
        }, Ct)).ShouldBeTrue();

        (await store.QueryAuditAsync(new AuditQuery { RunId = "run_norow" }, Ct)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task ProbeWriteAsync_WritableStore_Succeeds_AndAFailingWriteThrows()
    {
        var store = await OpenAsync();
        await store.ProbeWriteAsync(Ct);
        await store.ProbeWriteAsync(Ct);
        await FailWritesAsync("probe_full", "UPDATE", "write_probe");

        await Should.ThrowAsync<DbException>(() => store.ProbeWriteAsync(Ct));
    }

    [Fact]
    public async Task CommitAsync_CompletionWithArtifacts_KeepsTheirBytesUntilTheRowExpires()
    {
        var store = await OpenAsync();
        var run = Run("agt_a", key: null) with { ExpiresAt = Some.Now.AddMinutes(1) };
        await store.AdmitRunAsync(run, receipt: null, Ct);
        var csv = new StoredArtifact("tables/a.csv", "text/csv", "ab12", "1,2\n"u8.ToArray());

        (await store.CommitAsync(new RunTransition { Complete = new RunCompletion(run.RunId, "ok", null, Some.Now, "{}", null) { Artifacts = [csv] } }, Ct)).ShouldBeTrue();

        var found = (await store.FindRunArtifactAsync(run.RunId, "tables/a.csv", Ct)).ShouldNotBeNull();
        (found.Path, found.MediaType, found.Sha256).ShouldBe(("tables/a.csv", "text/csv", "ab12"));
        found.Bytes.ToArray().ShouldBe("1,2\n"u8.ToArray());
        (await store.FindRunArtifactAsync(run.RunId, "other.csv", Ct)).ShouldBeNull();
        (await store.FindRunArtifactAsync("run_other", "tables/a.csv", Ct)).ShouldBeNull("an artifact is found by its own run only");

        (await store.DeleteExpiredRunsAsync(Some.Now.AddMinutes(2), max: 10, Ct)).ShouldBe(1);
        (await store.FindRunArtifactAsync(run.RunId, "tables/a.csv", Ct)).ShouldBeNull("the files go with the row");
    }

    [Fact]
    public async Task RevokeAgentAsync_DeletesItsRunsArtifacts_AndARunEndingAfterKeepsNone()
    {
        var store = await OpenAsync();
        var agent = Some.Agent();
        await store.CreateAgentAsync(agent, Some.Key(agent), Some.Admin("agent_created", agent.Id), Ct);
        var ended = Run(agent.Id, key: null);
        var open = Run(agent.Id, key: null);
        await store.AdmitRunAsync(ended, receipt: null, Ct);
        await store.AdmitRunAsync(open, receipt: null, Ct);
        var file = new StoredArtifact("a.txt", "text/plain", "cd34", "x"u8.ToArray());
        await store.CommitAsync(new RunTransition { Complete = new RunCompletion(ended.RunId, "ok", null, Some.Now, "{}", null) { Artifacts = [file] } }, Ct);

        (await store.RevokeAgentAsync(agent.Id, Some.Now, "leaked", Some.Admin("agent_revoked", agent.Id), Ct)).ShouldBeTrue();
        await store.CommitAsync(new RunTransition { Complete = new RunCompletion(open.RunId, "ok", null, Some.Now, "{}", null) { Artifacts = [file] } }, Ct);

        (await store.FindRunArtifactAsync(ended.RunId, "a.txt", Ct)).ShouldBeNull();
        (await store.FindRunArtifactAsync(open.RunId, "a.txt", Ct)).ShouldBeNull();
        (await store.FindRunAsync(ended.RunId, Ct)).ShouldNotBeNull("the result stays, for the record");
    }

    private static StoredRun Run(string agentId, string? key) => new()
    {
        RunId = "run_" + Guid.NewGuid().ToString("N"),
        AgentId = agentId,
        CredentialId = "cred_1",
        IdempotencyKey = key,
        RequestSha256 = key is null ? null : "ab12",
        Plan = "{\"language\":\"python\"}",
        State = "queued",
        CreatedAt = Some.Now,
        ExpiresAt = Some.Now.AddMinutes(15),
    };
}
