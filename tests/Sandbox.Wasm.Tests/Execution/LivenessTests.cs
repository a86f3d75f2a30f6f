using Sandbox.Wasm.Execution;

namespace Sandbox.Wasm.Tests.Execution;

/// <summary>
/// The slot liveness regions load and store at their edges by (IlCompiler.Liveness), over hand-made unit records: a
/// store kills, a loop carries a slot read at its top around the back edge, and a unit with several ways out kills
/// nothing (a conditional move stores on its taken branch alone). Whole programs split into tiny regions, where a wrong
/// answer here shows as a wrong result, are in <see cref="RegionTests"/> and the spec suite's split run.
/// </summary>
public sealed class LivenessTests
{
    [Fact]
    public void Compute_StraightLine_AStoreKillsAndALoadMakesLive()
    {
        // 1: load 0, store 1 -> 2: load 1, store 2 -> 3: load 2, load 0; return
        var units = new IlCompiler.UnitRecord(4);
        Unit(units, 1, [(0, false), (1, true)], 2);
        Unit(units, 2, [(1, false), (2, true)], 3);
        Unit(units, 3, [(2, false), (0, false)]);

        var live = IlCompiler.Liveness.Compute(units, 3).ShouldNotBeNull();

        Live(live, 1, 3).ShouldBe([0]);
        Live(live, 2, 3).ShouldBe([0, 1], "slot 0 is read later, slot 1 now; slot 2 is stored before it is read");
        Live(live, 3, 3).ShouldBe([0, 2]);
    }

    [Fact]
    public void Compute_Loop_SlotReadAtTheTopIsLiveAroundTheBackEdge()
    {
        // 1: store 0 -> 2 (loop top): load 0, load 1 -> 3: store 1, then back to 2 or on to 4; 4: return
        var units = new IlCompiler.UnitRecord(5);
        Unit(units, 1, [(0, true)], 2);
        Unit(units, 2, [(0, false), (1, false)], 3);
        Unit(units, 3, [(1, true)], 2, 4);
        Unit(units, 4, []);

        var live = IlCompiler.Liveness.Compute(units, 2).ShouldNotBeNull();

        Live(live, 1, 2).ShouldBe([1], "slot 0 is stored first; slot 1 is read at the loop's top before any store");
        Live(live, 2, 2).ShouldBe([0, 1]);
        Live(live, 3, 2).ShouldBe([0, 1], "a unit with two ways out kills nothing, so slot 1 stays live through it");
        Live(live, 4, 2).ShouldBeEmpty();
    }

    [Fact]
    public void Compute_OneWayOut_StoreBeforeLoadIsNotAUse_SeveralWaysOut_EveryLoadIs()
    {
        var units = new IlCompiler.UnitRecord(4);
        Unit(units, 1, [(0, true), (0, false)], 3);
        Unit(units, 2, [(1, true), (1, false)], 3, 1);
        Unit(units, 3, []);

        var live = IlCompiler.Liveness.Compute(units, 2).ShouldNotBeNull();

        Live(live, 1, 2).ShouldBeEmpty("slot 0 is stored before this unit reads it");
        Live(live, 2, 2).ShouldBe([1], "with two ways out the store may be on one of them only: the load counts");
    }

    [Fact]
    public void Compute_TransferIntoTheMiddleOfAUnit_IsUnknown()
    {
        var units = new IlCompiler.UnitRecord(4);
        Unit(units, 1, [(0, false)], 2);
        Unit(units, 3, []);

        IlCompiler.Liveness.Compute(units, 1).ShouldBeNull("pc 2 starts no unit, so nothing is said and regions keep every slot");
    }

    [Fact]
    public void Compute_MoreThan64Slots_UsesEveryWord()
    {
        var units = new IlCompiler.UnitRecord(3);
        Unit(units, 1, [(70, true), (3, false)], 2);
        Unit(units, 2, [(70, false), (129, false)]);

        var live = IlCompiler.Liveness.Compute(units, 130).ShouldNotBeNull();

        Live(live, 1, 130).ShouldBe([3, 129]);
        Live(live, 2, 130).ShouldBe([70, 129]);
    }

    private static void Unit(IlCompiler.UnitRecord units, int pc, (int Slot, bool Store)[] events, params int[] successors)
    {
        units.Begin(pc);
        foreach (var (slot, store) in events)
        {
            units.Slot(slot, store);
        }

        foreach (var successor in successors)
        {
            units.Flow(successor);
        }
    }

    private static int[] Live(IlCompiler.Liveness live, int pc, int slots) =>
        [.. Enumerable.Range(0, slots).Where(slot => live.IsLive(pc, slot))];
}
