using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests.Execution;

public sealed class HostReentryTests
{
    private static WasmInstance Instantiate(WasmEngine engine, string callbackExport)
    {
        WasmInstance? instance = null;
        var linker = new WasmLinker();
        linker.Define("host", "recurse", engine.CreateHostFunction([WasmValueType.I32], [WasmValueType.I32], (context, stack) =>
        {
            var n = (int)(uint)stack[0];
            var target = n == 3 ? callbackExport : "sum";
            stack[0] = (uint)instance!.Invoke(target, WasmValue.I32(n))[0].AsI32();
        }));
        instance = engine.Instantiate(engine.Compile(Fixture.Load("host-reentry")), linker);
        return instance;
    }

    [Fact]
    public void Invoke_HostCallsBackIntoGuest_NestedFramesKeepTheirValues()
    {
        var engine = new WasmEngine();
        var instance = Instantiate(engine, "sum");

        instance.Invoke("sum", WasmValue.I32(100))[0].AsI32().ShouldBe(5050);
    }

    [Fact]
    public void Invoke_TrapInsideNestedReentry_UnwindsAndEngineStaysUsable()
    {
        var engine = new WasmEngine();
        var instance = Instantiate(engine, "boom");

        Should.Throw<WasmTrapException>(() => instance.Invoke("sum", WasmValue.I32(10))).Kind.ShouldBe(WasmTrapKind.Unreachable);
        instance.Invoke("sum", WasmValue.I32(2))[0].AsI32().ShouldBe(3);
    }

    [Fact]
    public void Invoke_UnboundedReentry_TrapsCallStackExhaustedInsteadOfCrashing()
    {
        var engine = new WasmEngine(new WasmEngineOptions { MaxCallDepth = 1_000_000 });
        var instance = Instantiate(engine, "sum");

        // Each level is guest -> host -> guest on the host stack; the host-stack probe must trap first.
        var trap = engine.RunOnExecutionThread(() => Should.Throw<WasmTrapException>(() => instance.Invoke("sum", WasmValue.I32(int.MaxValue))));

        trap.Kind.ShouldBe(WasmTrapKind.CallStackExhausted);
        instance.Invoke("sum", WasmValue.I32(2))[0].AsI32().ShouldBe(3);
    }
}
