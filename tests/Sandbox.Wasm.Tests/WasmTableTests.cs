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
}
