using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests.Execution;

public sealed class InterruptTests
{
    [Fact]
    public async Task RequestInterrupt_FromAnotherThreadDuringInfiniteLoop_TrapsInterrupted()
    {
        var engine = new WasmEngine();
        var instance = Fixture.Instantiate(engine, "counter-loop");
        using var started = new ManualResetEventSlim();
        var run = Task.Run(() =>
        {
            started.Set();
            return Should.Throw<WasmTrapException>(() => instance.Invoke("run"));
        });
        started.Wait(TestContext.Current.CancellationToken);
        while (instance.GetGlobal("count")!.Value.AsI64() == 0)
        {
            await Task.Yield();
        }

        engine.RequestInterrupt();
        var trap = await run.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        trap.Kind.ShouldBe(WasmTrapKind.Interrupted);
    }

    [Fact]
    public async Task RequestInterrupt_DuringCompiledLoop_TrapsInterruptedAtALoopHeader()
    {
        // Compiled on its first call: the loop runs in the IL tier, whose loop headers read the interrupt flag in place.
        var engine = new WasmEngine(new WasmEngineOptions { CompileThreshold = 1, CompileLoopThreshold = 1 });
        var instance = Fixture.Instantiate(engine, "counter-loop");
        var run = Task.Run(() => Should.Throw<WasmTrapException>(() => instance.Invoke("run")));
        while (instance.GetGlobal("count")!.Value.AsI64() < 1_000)
        {
            await Task.Yield();
        }

        engine.RequestInterrupt();
        var trap = await run.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        trap.Kind.ShouldBe(WasmTrapKind.Interrupted);
        engine.Interpreter.CompiledFunctionCount.ShouldBeGreaterThan(0);
    }

    [Fact]
    public void ClearInterrupt_AfterInterrupt_EngineRunsAgain()
    {
        var engine = new WasmEngine();
        var instance = Fixture.Instantiate(engine, "fuel-calls");
        engine.RequestInterrupt();
        Should.Throw<WasmTrapException>(() => instance.Invoke("f", WasmValue.I32(5))).Kind.ShouldBe(WasmTrapKind.Interrupted);

        engine.ClearInterrupt();

        instance.Invoke("f", WasmValue.I32(5))[0].AsI32().ShouldBe(5);
    }
}
