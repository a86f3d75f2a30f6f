using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests.Execution;

public sealed class CallDepthTests
{
    [Fact]
    public void Invoke_UnboundedRecursionOnExecutionThread_TrapsCallStackExhausted()
    {
        var engine = new WasmEngine();
        var instance = Fixture.Instantiate(engine, "infinite-recursion");

        var trap = engine.RunOnExecutionThread(() => Should.Throw<WasmTrapException>(() => instance.Invoke("down", WasmValue.I64(0))));

        trap.Kind.ShouldBe(WasmTrapKind.CallStackExhausted);
    }

    [Fact]
    public void Invoke_AfterCallStackExhausted_SameInstanceAndNewInstanceStillWork()
    {
        var engine = new WasmEngine();
        var instance = Fixture.Instantiate(engine, "infinite-recursion");
        engine.RunOnExecutionThread(() => Should.Throw<WasmTrapException>(() => instance.Invoke("down", WasmValue.I64(0))));

        instance.Invoke("ok")[0].AsI32().ShouldBe(42);
        Fixture.Instantiate(engine, "infinite-recursion").Invoke("ok")[0].AsI32().ShouldBe(42);
    }

    [Fact]
    public void Invoke_UnboundedRecursionOnSmallStackThread_TrapsInsteadOfCrashingHost()
    {
        // A 1 MiB thread cannot hold MaxCallDepth interpreter frames: the host-stack probe must trap first.
        var engine = new WasmEngine(new WasmEngineOptions { MaxCallDepth = 1_000_000, ValueStackSlots = 1 << 24 });
        var instance = Fixture.Instantiate(engine, "infinite-recursion");
        WasmTrapException? trap = null;
        var thread = new Thread(() => trap = Should.Throw<WasmTrapException>(() => instance.Invoke("down", WasmValue.I64(0))), 1024 * 1024);

        thread.Start();
        thread.Join();

        trap.ShouldNotBeNull().Kind.ShouldBe(WasmTrapKind.CallStackExhausted);
    }

    [Fact]
    public void Invoke_CompiledRecursionOnSmallStackThreadAfterARunOnAnother_TrapsInsteadOfCrashingHost()
    {
        // Compiled calls nest on the host stack, and a compiled entry asks the runtime's probe only below the lowest address
        // it already passed at: that address belongs to one thread's stack, so an entry on another thread starts afresh
        // (without that, the small thread's stack would overflow and end the process).
        var engine = new WasmEngine(new WasmEngineOptions { MaxCallDepth = 1_000_000, ValueStackSlots = 1 << 24, CompileThreshold = 1, CompileLoopThreshold = 1 });
        var instance = Fixture.Instantiate(engine, "infinite-recursion");
        engine.RunOnExecutionThread(() => instance.Invoke("depth", WasmValue.I32(2_000))[0].AsI32()).ShouldBe(2_000);
        engine.Interpreter.CompiledFunctionCount.ShouldBeGreaterThan(0);
        WasmTrapException? trap = null;
        var thread = new Thread(() => trap = Should.Throw<WasmTrapException>(() => instance.Invoke("down", WasmValue.I64(0))), 1024 * 1024);

        thread.Start();
        thread.Join();

        trap.ShouldNotBeNull().Kind.ShouldBe(WasmTrapKind.CallStackExhausted);
        instance.Invoke("depth", WasmValue.I32(100))[0].AsI32().ShouldBe(100);
    }

    [Fact]
    public void Invoke_DepthLimit_IsExactlyMaxCallDepth()
    {
        var engine = new WasmEngine(new WasmEngineOptions { MaxCallDepth = 100 });
        var instance = Fixture.Instantiate(engine, "infinite-recursion");

        // depth(n) needs n + 1 frames: 100 frames fit, 101 do not.
        instance.Invoke("depth", WasmValue.I32(99))[0].AsI32().ShouldBe(99);
        Should.Throw<WasmTrapException>(() => instance.Invoke("depth", WasmValue.I32(100))).Kind.ShouldBe(WasmTrapKind.CallStackExhausted);
    }
}
