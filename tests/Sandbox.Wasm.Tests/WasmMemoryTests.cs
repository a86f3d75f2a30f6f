using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests;

public sealed class WasmMemoryTests
{
    [Fact]
    public void MemoryGrow_PastHostCap_ReturnsMinusOneAndRecordsRefusal()
    {
        var engine = new WasmEngine(new WasmEngineOptions { MaxMemoryPages = 16 });
        var instance = Fixture.Instantiate(engine, "memory-grow");

        var grown = instance.Invoke("grow_forever")[0].AsI32();

        grown.ShouldBe(15);
        instance.Invoke("size")[0].AsI32().ShouldBe(16);
        instance.Memory!.GrowRefusedByCap.ShouldBeTrue();
    }

    [Fact]
    public void MemoryGrow_WithinCap_ReturnsOldSize()
    {
        var engine = new WasmEngine(new WasmEngineOptions { MaxMemoryPages = 16 });
        var instance = Fixture.Instantiate(engine, "memory-grow");

        instance.Invoke("grow", WasmValue.I32(3))[0].AsI32().ShouldBe(1);
        instance.Invoke("size")[0].AsI32().ShouldBe(4);
        instance.Memory!.GrowRefusedByCap.ShouldBeFalse();
        instance.Memory.Span.Length.ShouldBe(4 * WasmMemory.PageSize);
    }

    [Fact]
    public void MemoryGrow_HugeDelta_ReturnsMinusOneWithoutAllocating()
    {
        var engine = new WasmEngine();
        var instance = Fixture.Instantiate(engine, "memory-grow");

        instance.Invoke("grow", WasmValue.I32(-1))[0].AsI32().ShouldBe(-1);
        instance.Invoke("size")[0].AsI32().ShouldBe(1);
    }

    [Fact]
    public void Instantiate_DeclaredMinimumOverCap_LinkErrorNamingTheCap()
    {
        var engine = new WasmEngine(new WasmEngineOptions { MaxMemoryPages = 256 });
        var module = engine.Compile(Fixture.Load("memory-bomb"), TestContext.Current.CancellationToken);

        var error = Should.Throw<WasmLinkException>(() => engine.Instantiate(module));

        error.Message.ShouldContain(nameof(WasmEngineOptions.MaxMemoryPages));
    }
}
