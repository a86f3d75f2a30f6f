using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests.Execution;

public sealed class FuelTests
{
    private static long CountWithFuel(string fixture, string export, long fuel, WasmValue[] args, string counter)
    {
        var engine = new WasmEngine();
        var instance = Fixture.Instantiate(engine, fixture);
        engine.Fuel = fuel;
        var trap = Should.Throw<WasmTrapException>(() => instance.Invoke(export, args));
        trap.Kind.ShouldBe(WasmTrapKind.OutOfFuel);
        var value = instance.GetGlobal(counter)!.Value;
        return value.Type == WasmValueType.I64 ? value.AsI64() : value.AsI32();
    }

    [Fact]
    public void Invoke_InfiniteLoopWithSameFuel_StopsAtSameCounter()
    {
        var first = CountWithFuel("counter-loop", "run", 100_000, [], "count");
        var second = CountWithFuel("counter-loop", "run", 100_000, [], "count");

        first.ShouldBeGreaterThan(0);
        second.ShouldBe(first);
    }

    [Fact]
    public void Invoke_InfiniteLoopWithMoreFuel_CountsFurther()
    {
        var less = CountWithFuel("counter-loop", "run", 10_000, [], "count");
        var more = CountWithFuel("counter-loop", "run", 20_000, [], "count");

        more.ShouldBeGreaterThan(less);
    }

    [Fact]
    public void Invoke_RecursionWithSameFuel_StopsAtSameCallCount()
    {
        var first = CountWithFuel("fuel-calls", "f", 50_000, [WasmValue.I32(40)], "calls");
        var second = CountWithFuel("fuel-calls", "f", 50_000, [WasmValue.I32(40)], "calls");

        first.ShouldBeGreaterThan(0);
        second.ShouldBe(first);
    }

    [Fact]
    public void Invoke_EnoughFuel_CompletesAndChargesFuel()
    {
        var engine = new WasmEngine();
        var instance = Fixture.Instantiate(engine, "fuel-calls");
        engine.Fuel = 10_000_000;

        var result = instance.Invoke("f", WasmValue.I32(10));

        result[0].AsI32().ShouldBe(55);
        engine.Fuel.ShouldBeLessThan(10_000_000);
    }

    [Fact]
    public void Invoke_LoopOfHugeMemoryFills_StopsQuicklyBecauseBulkWorkCostsFuel()
    {
        var engine = new WasmEngine();
        var instance = Fixture.Instantiate(engine, "bulk-fill-loop");
        engine.Fuel = 1_000_000;
        var watch = System.Diagnostics.Stopwatch.StartNew();

        Should.Throw<WasmTrapException>(() => instance.Invoke("fill_forever")).Kind.ShouldBe(WasmTrapKind.OutOfFuel);

        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void MemoryGrow_RefusedWithLittleFuel_ReturnsMinusOneInsteadOfTrapping()
    {
        var engine = new WasmEngine();
        var instance = Fixture.Instantiate(engine, "bulk-fill-loop");
        engine.Fuel = 100;

        instance.Invoke("probe_grow")[0].AsI32().ShouldBe(-1);
    }
}
