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
