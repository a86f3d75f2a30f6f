using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests;

public sealed class WasmTableTests
{
    [Fact]
    public void TableGrow_PastHostCap_ReturnsMinusOneAndRecordsRefusal()
    {
        var engine = new WasmEngine(new WasmEngineOptions { MaxTableElements = 100 });
        var instance = Fixture.Instantiate(engine, "table-grow");

        instance.Invoke("grow", WasmValue.I32(99))[0].AsI32().ShouldBe(1);
        instance.Invoke("grow", WasmValue.I32(1))[0].AsI32().ShouldBe(-1);

        instance.Invoke("size")[0].AsI32().ShouldBe(100);
        ((WasmTable)instance.Exports["table"]).GrowRefusedByCap.ShouldBeTrue();
    }

    [Fact]
    public void TableGrow_HugeDelta_ReturnsMinusOneWithoutAllocating()
    {
        var engine = new WasmEngine();
        var instance = Fixture.Instantiate(engine, "table-grow");

        instance.Invoke("grow", WasmValue.I32(-1))[0].AsI32().ShouldBe(-1);
        instance.Invoke("size")[0].AsI32().ShouldBe(1);
    }

    [Fact]
    public void Instantiate_ManyLargeTables_RefusedAtTheTableBudgetBeforeAllocatingPastIt()
    {
        // Issue 10: 100 tables of 1M entries held 800 MB that no limit counted. Scaled down (80 MB unbounded) so the
        // test stays harmless without the fix; the budget stops it at 8 MiB.
        var engine = new WasmEngine(new WasmEngineOptions { MaxTableBytes = 8L * 1024 * 1024 });
        var module = engine.Compile(HostileModules.ManyTables(100, 100_000), TestContext.Current.CancellationToken);
        var allocated = GC.GetAllocatedBytesForCurrentThread();

        var error = Should.Throw<WasmLinkException>(() => engine.Instantiate(module));

        error.Message.ShouldContain(nameof(WasmEngineOptions.MaxTableBytes));
        (GC.GetAllocatedBytesForCurrentThread() - allocated).ShouldBeLessThan(9L * 1024 * 1024);
        engine.AllocatedMemoryBytes.ShouldBeLessThanOrEqualTo(8L * 1024 * 1024);
    }

    [Fact]
    public void Grow_MemoryAndTablesShareOneBudget_RefusedAtItAndReportedAsPeak()
    {
        const long budget = (4 * WasmMemory.PageSize) + (100 * 8);
        var engine = new WasmEngine(new WasmEngineOptions { MemoryBudgetBytes = budget });
        var memory = Fixture.Instantiate(engine, "memory-grow");
        var table = Fixture.Instantiate(engine, "table-grow");

        memory.Invoke("grow", WasmValue.I32(3))[0].AsI32().ShouldBe(1);
        table.Invoke("grow", WasmValue.I32(99))[0].AsI32().ShouldBe(1);
        engine.GrowRefusedByCap.ShouldBeFalse();

        table.Invoke("grow", WasmValue.I32(1))[0].AsI32().ShouldBe(-1);
        memory.Invoke("grow", WasmValue.I32(1))[0].AsI32().ShouldBe(-1);

        engine.GrowRefusedByCap.ShouldBeTrue();
        engine.PeakMemoryBytes.ShouldBe(budget);
        engine.AllocatedMemoryBytes.ShouldBeLessThanOrEqualTo(budget);
    }

    [Fact]
    public void Grow_TablesOnly_CountedInPeakMemory()
    {
        var engine = new WasmEngine();
        var table = Fixture.Instantiate(engine, "table-grow");

        table.Invoke("grow", WasmValue.I32(999))[0].AsI32().ShouldBe(1);

        engine.PeakMemoryBytes.ShouldBe(1000 * 8);
    }
}
