using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Tests.Store;

/// <summary>
/// The runs' contract (<see cref="GuardStoreRunsTests"/>) on a real PostgreSQL database, and what only a shared store does:
/// the caps of an agent hold across the nodes that admit its runs (two stores here, two pools of connections, as two nodes).
/// </summary>
public sealed class PostgresGuardStoreRunsTests(PostgresCluster cluster) : GuardStoreRunsTests(new PostgresBacking(cluster))
{
    private const string Agent = "agt_shared";

    [Fact]
    public async Task AdmitWithinCapsAsync_TwoNodesAdmitOneAgentsRunsAtOnce_NeverMoreThanItsConcurrencyCap()
    {
        const int Cap = 3;
        var nodes = new[] { await OpenAsync(), await OpenAsync() };
        var holding = 0;
        var most = 0;
        var admitted = 0;
        var refused = 0;

        // Eight workers, four per node, each trying ten runs: a run admitted holds its slot a moment, then completes.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            var node = nodes[worker % 2];
            for (var i = 0; i < 10; i++)
            {
                var run = Run();
                var cap = await node.AdmitWithinCapsAsync(Admission(run), Caps(maxConcurrent: Cap), Ct);
                if (cap is not null)
                {
                    cap.ShouldBe(CapNames.Concurrency);
                    Interlocked.Increment(ref refused);
                    (await node.FindRunAsync(run.RunId, Ct)).ShouldBeNull("a refused admission writes nothing");
                    continue;
                }

                Interlocked.Increment(ref admitted);
                var now = Interlocked.Increment(ref holding);
                InterlockedMax(ref most, now);
                await Task.Delay(5, Ct);
                Interlocked.Decrement(ref holding);
                (await node.CommitAsync(new RunTransition { Complete = new RunCompletion(run.RunId, "ok", null, Some.Now, "{}", null) }, Ct)).ShouldBeTrue();
            }
        }, Ct)));

        most.ShouldBeLessThanOrEqualTo(Cap);
        admitted.ShouldBeGreaterThan(Cap, "slots are given back by completion and taken again");
        refused.ShouldBeGreaterThan(0, "the workers did contend for the slots");
        (await RawScalarAsync<long>($"SELECT COUNT(*) FROM runs WHERE agent_id = '{Agent}'")).ShouldBe(admitted);
        (await RawScalarAsync<long>($"SELECT COUNT(*) FROM audit WHERE kind = 'receipt' AND agent_id = '{Agent}'")).ShouldBe(admitted, "a refused admission's receipt was rolled back with it");
    }

    [Fact]
    public async Task AdmitWithinCapsAsync_TwoNodesAtOnce_NeverMoreThanTheRatePerMinute()
    {
        var nodes = new[] { await OpenAsync(), await OpenAsync() };

        var verdicts = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(() =>
            nodes[i % 2].AdmitWithinCapsAsync(Admission(Run(state: "pending_approval")), Caps(rate: 5), Ct), Ct)));

        verdicts.Count(v => v is null).ShouldBe(5);
        verdicts.Where(v => v is not null).ShouldAllBe(v => v == CapNames.Rate);
        (await nodes[0].AdmitWithinCapsAsync(Admission(Run()), Caps(rate: 5, now: Some.Now.AddMinutes(1).AddSeconds(1)), Ct)).ShouldBeNull("the window moved on");
    }

    [Fact]
    public async Task AdmitWithinCapsAsync_RunsInFlightOnOtherNodes_HoldTheirCpuUntilTheyComplete()
    {
        var nodes = new[] { await OpenAsync(), await OpenAsync() };
        var first = Run();
        (await nodes[0].AdmitWithinCapsAsync(Admission(first), Caps(cpuBudgetMs: 1000, reserveMs: 400), Ct)).ShouldBeNull();
        (await nodes[1].AdmitWithinCapsAsync(Admission(Run()), Caps(cpuBudgetMs: 1000, reserveMs: 400), Ct)).ShouldBeNull();

        (await nodes[1].AdmitWithinCapsAsync(Admission(Run()), Caps(cpuBudgetMs: 1000, reserveMs: 400), Ct)).ShouldBe(CapNames.DailyCpuSeconds);

        // The first ends having used 100 ms: its 400 are released, 100 are charged, so 400 more fit (100 + 400 + 400).
        (await nodes[0].CommitAsync(new RunTransition
        {
            Complete = new RunCompletion(first.RunId, "ok", null, Some.Now, "{}", null),
            Charges = [new UsageCharge(Agent, "2026-03-01", 1, 100)],
        }, Ct)).ShouldBeTrue();
        (await nodes[1].AdmitWithinCapsAsync(Admission(Run()), Caps(cpuBudgetMs: 1000, reserveMs: 400), Ct)).ShouldBeNull();
        (await nodes[0].AdmitWithinCapsAsync(Admission(Run()), Caps(cpuBudgetMs: 1000, reserveMs: 200), Ct)).ShouldBe(CapNames.DailyCpuSeconds);
    }

    [Fact]
    public async Task AdmitWithinCapsAsync_RunWaitingForApproval_TakesNoSlot()
    {
        var store = await OpenAsync();

        (await store.AdmitWithinCapsAsync(Admission(Run(state: "pending_approval")), Caps(maxConcurrent: 1), Ct)).ShouldBeNull();
        (await store.AdmitWithinCapsAsync(Admission(Run()), Caps(maxConcurrent: 1), Ct)).ShouldBeNull();
        (await store.AdmitWithinCapsAsync(Admission(Run()), Caps(maxConcurrent: 1), Ct)).ShouldBe(CapNames.Concurrency);
    }

    private static RunTransition Admission(StoredRun run) => new()
    {
        Admit = run,
        Audit = [Some.Entry(AuditKinds.Receipt, run.RunId, "planned", run.AgentId)],
    };

    private static AdmissionCaps Caps(int maxConcurrent = 100, int rate = 1000, long cpuBudgetMs = 1_000_000, long reserveMs = 10, DateTimeOffset? now = null) =>
        new(Agent, maxConcurrent, rate, cpuBudgetMs, "2026-03-01", reserveMs, now ?? Some.Now);

    private static StoredRun Run(string state = "queued") => new()
    {
        RunId = "run_" + Guid.NewGuid().ToString("N"),
        AgentId = Agent,
        CredentialId = "cred_1",
        State = state,
        CreatedAt = Some.Now,
        ExpiresAt = Some.Now.AddMinutes(15),
    };

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
