using System.Data.Common;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Tests.Store;

/// <summary>The audit chain on a real database, for every store: appends, queries, open runs, and tampering done with raw SQL.</summary>
public abstract class GuardStoreAuditTests(StoreBacking backing) : StoreContract(backing)
{
    [Fact]
    public async Task AppendAsync_First_LinksToGenesisAndReadsBackIdentical()
    {
        var store = await OpenAsync();
        var expectedTime = Clock.Peek();

        var first = await store.AppendAsync(Some.Entry(runId: "run_1", status: "allowed"), Ct);
        var second = await store.AppendAsync(Some.Entry(), Ct);

        first.Sequence.ShouldBe(1);
        first.Time.ShouldBe(expectedTime);
        first.PreviousHash.ShouldBe(AuditChain.Genesis);
        first.Hash.ShouldBe(AuditChain.ComputeHash(first));
        first.Data.ShouldBe(Some.Entry().Data.ToJsonString());
        second.PreviousHash.ShouldBe(first.Hash);
        (await store.QueryAuditAsync(new AuditQuery(), Ct)).ShouldBe([first, second]);
    }

    [Fact]
    public async Task AppendAsync_FourTasksOnTwoStoresOfOneDatabase_ChainIsIntactWithoutGaps()
    {
        const int PerTask = 50;
        var stores = new[] { await OpenAsync(), await OpenAsync() };

        var appended = await Task.WhenAll(Enumerable.Range(0, 4).Select(task => Task.Run(async () =>
        {
            var mine = new List<long>();
            for (var i = 0; i < PerTask; i++)
            {
                mine.Add((await stores[task % 2].AppendAsync(Some.Entry(runId: $"run_{task}_{i}"), Ct)).Sequence);
            }

            return mine;
        }, Ct)));

        var verification = await stores[1].VerifyAuditAsync(Ct);
        verification.Intact.ShouldBeTrue(verification.Problem);
        verification.RecordsChecked.ShouldBe(4 * PerTask);
        appended.SelectMany(s => s).Order().ShouldBe(Enumerable.Range(1, 4 * PerTask).Select(i => (long)i));
        var all = await stores[0].QueryAuditAsync(new AuditQuery { Limit = 1000 }, Ct);
        all.Select(r => r.Sequence).ShouldBe(Enumerable.Range(1, 4 * PerTask).Select(i => (long)i));
        verification.HeadHash.ShouldBe(all[^1].Hash);
    }

    [Fact]
    public async Task AppendAsync_Cancelled_ThrowsAndWritesNothing()
    {
        var store = await OpenAsync();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(() => store.AppendAsync(Some.Entry(), cancelled.Token));

        (await store.QueryAuditAsync(new AuditQuery(), Ct)).ShouldBeEmpty();
    }

    [Fact]
    public async Task VerifyAuditAsync_Empty_IsIntactAtGenesis()
    {
        var store = await OpenAsync();

        (await store.VerifyAuditAsync(Ct)).ShouldBe(new AuditVerification(true, 0, null, null, AuditChain.Genesis));
    }

    [Fact]
    public async Task Audit_RawUpdateOrDelete_IsRefusedByTheAppendOnlyTriggers()
    {
        var store = await OpenAsync();
        await store.AppendAsync(Some.Entry(), Ct);

        (await Should.ThrowAsync<DbException>(() => RawAsync("UPDATE audit SET data = '{}' WHERE seq = 1"))).Message.ShouldContain("append-only");
        (await Should.ThrowAsync<DbException>(() => RawAsync("DELETE FROM audit WHERE seq = 1"))).Message.ShouldContain("append-only");
    }

    [Fact]
    public async Task VerifyAuditAsync_OneRecordsDataChanged_ReportsThatRecord()
    {
        var store = await AppendFiveAsync();
        await TamperAsync("UPDATE audit SET data = '{\"note\":\"nothing to see\"}' WHERE seq = 3");

        var verification = await store.VerifyAuditAsync(Ct);

        verification.Intact.ShouldBeFalse();
        verification.FirstBrokenSequence.ShouldBe(3);
        verification.RecordsChecked.ShouldBe(2);
        verification.Problem.ShouldNotBeNull().ShouldContain("changed");
    }

    [Fact]
    public async Task VerifyAuditAsync_MiddleRecordDeleted_ReportsTheGap()
    {
        var store = await AppendFiveAsync();
        await TamperAsync("DELETE FROM audit WHERE seq = 3");

        var verification = await store.VerifyAuditAsync(Ct);

        verification.FirstBrokenSequence.ShouldBe(4);
        verification.Problem.ShouldNotBeNull().ShouldContain("missing");
    }

    [Fact]
    public async Task VerifyAuditAsync_MiddleRecordDeletedAndLaterOnesRenumbered_ReportsTheBrokenLink()
    {
        var store = await AppendFiveAsync();
        await TamperAsync("DELETE FROM audit WHERE seq = 3; UPDATE audit SET seq = seq - 1 WHERE seq > 3");

        var verification = await store.VerifyAuditAsync(Ct);

        verification.FirstBrokenSequence.ShouldBe(3);
        verification.Problem.ShouldNotBeNull().ShouldContain("does not link");
    }

    [Fact]
    public async Task VerifyAuditAsync_TwoRecordsSwapped_ReportsTheFirst()
    {
        var store = await AppendFiveAsync();
        await TamperAsync(
            """
            CREATE TEMP TABLE original AS SELECT seq, kind, data FROM audit WHERE seq IN (2, 3);
            UPDATE audit SET kind = (SELECT kind FROM original WHERE seq = 5 - audit.seq),
                             data = (SELECT data FROM original WHERE seq = 5 - audit.seq)
            WHERE seq IN (2, 3);
            """);
        (await RawScalarAsync<string>("SELECT kind FROM audit WHERE seq = 2")).ShouldBe(AuditKinds.Request);

        var verification = await store.VerifyAuditAsync(Ct);

        verification.FirstBrokenSequence.ShouldBe(2);
    }

    [Fact]
    public async Task VerifyAuditAsync_RecordChangedAndRehashed_ReportsTheNextRecordsLink()
    {
        var store = await AppendFiveAsync();
        var third = (await store.QueryAuditAsync(new AuditQuery { AfterSequence = 2, Limit = 1 }, Ct)).ShouldHaveSingleItem();
        var forged = third with { Data = "{\"note\":\"forged\"}" };
        await TamperAsync("UPDATE audit SET data = @data, hash = @hash WHERE seq = 3", ("@data", forged.Data), ("@hash", AuditChain.ComputeHash(forged)));

        var verification = await store.VerifyAuditAsync(Ct);

        verification.FirstBrokenSequence.ShouldBe(4);
        verification.RecordsChecked.ShouldBe(3);
        verification.Problem.ShouldNotBeNull().ShouldContain("does not link to record 3");
    }

    [Fact]
    public async Task VerifyAuditAsync_TimeNotInTheStoresFormat_ReportsThatRecord()
    {
        var store = await AppendFiveAsync();
        await TamperAsync("UPDATE audit SET time = '2026-01-01 00:00:00' WHERE seq = 2");

        var verification = await store.VerifyAuditAsync(Ct);

        verification.Intact.ShouldBeFalse();
        verification.FirstBrokenSequence.ShouldBe(2);
        verification.RecordsChecked.ShouldBe(1);
    }

    [Fact]
    public async Task QueryAuditAsync_EachFilter_SelectsOnlyItsRecords()
    {
        var store = await OpenAsync();
        var records = new List<AuditRecord>();
        records.Add(await store.AppendAsync(Some.Entry(AuditKinds.Request, "run_a", agentId: "agt_a"), Ct));
        records.Add(await store.AppendAsync(Some.Entry(AuditKinds.Decision, "run_a", "allowed", "agt_a"), Ct));
        records.Add(await store.AppendAsync(Some.Entry(AuditKinds.Request, "run_b", agentId: "agt_b"), Ct));
        records.Add(await store.AppendAsync(Some.Entry(AuditKinds.Decision, "run_b", "rejected", "agt_b"), Ct));
        records.Add(await store.AppendAsync(Some.Entry(AuditKinds.Auth, agentId: null), Ct));

        async Task<long[]> Sequences(AuditQuery query) => [.. (await store.QueryAuditAsync(query, Ct)).Select(r => r.Sequence)];

        (await Sequences(new AuditQuery())).ShouldBe([1, 2, 3, 4, 5]);
        (await Sequences(new AuditQuery { AgentId = "agt_b" })).ShouldBe([3, 4]);
        (await Sequences(new AuditQuery { RunId = "run_a" })).ShouldBe([1, 2]);
        (await Sequences(new AuditQuery { Kind = AuditKinds.Decision })).ShouldBe([2, 4]);
        (await Sequences(new AuditQuery { Kind = AuditKinds.Decision, Status = "rejected" })).ShouldBe([4]);
        (await Sequences(new AuditQuery { From = records[1].Time, To = records[3].Time })).ShouldBe([2, 3]);
        (await Sequences(new AuditQuery { From = records[1].Time.ToOffset(TimeSpan.FromHours(-5)) })).ShouldBe([2, 3, 4, 5]);
        (await Sequences(new AuditQuery { AfterSequence = 2, Limit = 2 })).ShouldBe([3, 4]);
        (await Sequences(new AuditQuery { Limit = 0 })).ShouldBeEmpty();
    }

    [Fact]
    public async Task OpenRunsAsync_MixedRuns_OnlyAcceptedRunsWithoutResult()
    {
        var store = await OpenAsync();
        await store.AppendAsync(Some.Entry(AuditKinds.Request, "run_receipt", agentId: "agt_a"), Ct);
        await store.AppendAsync(Some.Entry(AuditKinds.Decision, "run_receipt", "allowed", "agt_a"), Ct);
        var receipt = await store.AppendAsync(Some.Entry(AuditKinds.Receipt, "run_receipt", agentId: "agt_a"), Ct);

        await store.AppendAsync(Some.Entry(AuditKinds.Decision, "run_done", "allowed"), Ct);
        await store.AppendAsync(Some.Entry(AuditKinds.Receipt, "run_done"), Ct);
        await store.AppendAsync(Some.Entry(AuditKinds.Result, "run_done", "ok"), Ct);

        await store.AppendAsync(Some.Entry(AuditKinds.Decision, "run_rejected", "rejected"), Ct);

        var pending = await store.AppendAsync(Some.Entry(AuditKinds.Decision, "run_pending", "pending", "agt_b"), Ct);

        await store.AppendAsync(Some.Entry(AuditKinds.Decision, "run_denied", "pending"), Ct);
        await store.AppendAsync(Some.Entry(AuditKinds.Approval, "run_denied", "denied"), Ct);
        await store.AppendAsync(Some.Entry(AuditKinds.Decision, "run_denied", "rejected"), Ct);

        var open = await store.OpenRunsAsync(Ct);

        open.ShouldBe([
            new OpenRun("run_receipt", "agt_a", AuditKinds.Receipt, receipt.Time),
            new OpenRun("run_pending", "agt_b", AuditKinds.Decision, pending.Time),
        ]);
    }

    [Fact]
    public async Task OpenRunsAsync_AfterResult_IsNoLongerOpen()
    {
        var store = await OpenAsync();
        await store.AppendAsync(Some.Entry(AuditKinds.Decision, "run_1", "allowed"), Ct);
        await store.AppendAsync(Some.Entry(AuditKinds.Receipt, "run_1"), Ct);
        (await store.OpenRunsAsync(Ct)).ShouldHaveSingleItem().RunId.ShouldBe("run_1");

        await store.AppendAsync(Some.Entry(AuditKinds.Result, "run_1", "interrupted"), Ct);

        (await store.OpenRunsAsync(Ct)).ShouldBeEmpty();
    }

    /// <summary>Attack: delete the newest records (triggers dropped). The rest still links; the head kept from before does not match.</summary>
    [Fact]
    public async Task VerifyAuditAsync_NewestRecordsDeleted_IsFoundByTheHeadKeptBefore()
    {
        var store = await AppendFiveAsync();
        var head = await store.AuditHeadAsync(Ct);
        (await store.VerifyAuditAsync(Ct)).Head.ShouldBe(head);
        await TamperAsync("DELETE FROM audit WHERE seq > 3");

        var without = await store.VerifyAuditAsync(Ct);
        var with = await store.VerifyAuditAsync([head], Ct);

        head.Sequence.ShouldBe(5);
        without.Intact.ShouldBeTrue("the chain alone cannot see a cut tail");
        with.Intact.ShouldBeFalse();
        with.FirstBrokenSequence.ShouldBe(4);
        with.Problem.ShouldNotBeNull().ShouldContain("cut off the end");
    }

    [Fact]
    public async Task AuditHeadAsync_Empty_IsGenesis() =>
        (await (await OpenAsync()).AuditHeadAsync(Ct)).ShouldBe(AuditAnchor.Genesis);

    private async Task<IGuardStore> AppendFiveAsync()
    {
        var store = await OpenAsync();
        for (var i = 1; i <= 5; i++)
        {
            var entry = Some.Entry(i % 2 == 0 ? AuditKinds.Decision : AuditKinds.Request, $"run_{i}", agentId: $"agt_{i}");
            entry.Data["record"] = i;
            await store.AppendAsync(entry, Ct);
        }

        (await store.VerifyAuditAsync(Ct)).Intact.ShouldBeTrue();
        return store;
    }

    /// <summary>What someone with the database can do: drop the append-only triggers, then rewrite history.</summary>
    private Task<int> TamperAsync(string sql, params (string Name, object? Value)[] parameters) =>
        RawAsync(Backing.DropAuditGuardsSql + " " + sql, parameters);
}
