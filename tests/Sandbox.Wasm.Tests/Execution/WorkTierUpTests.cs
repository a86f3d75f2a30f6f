using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests.Execution;

/// <summary>
/// A function is compiled once it has burned <see cref="WasmEngineOptions.CompileFuelThreshold"/> of fuel in its own
/// body while interpreted (issue 13): CPython calls functions that run tens of µs each a few thousand times a run, far
/// below the call threshold. Here the call and loop thresholds never fire, so the fuel rule alone decides; the callers'
/// and the cheap callee's own work stay under it, and the answer and the fuel left are the interpreter's.
/// </summary>
public sealed class WorkTierUpTests
{
    private static WasmEngine Engine(bool compiled) => new(new WasmEngineOptions
    {
        UseCompiler = compiled,
        CompileThreshold = int.MaxValue,
        CompileLoopThreshold = int.MaxValue,
        CompileFuelThreshold = 20_000,
    });

    /// <summary>Invokes run five times: were a caller charged its callees' fuel, run itself would be compiled at its next call.</summary>
    private static (long Result, long FuelLeft, int Compiled) Run(bool compiled, int calls, int iterations)
    {
        var engine = Engine(compiled);
        var instance = Fixture.Instantiate(engine, "busy-callee");
        engine.Fuel = 100_000_000;
        long result = 0;
        for (var i = 0; i < 5; i++)
        {
            result += instance.Invoke("run", WasmValue.I32(calls), WasmValue.I32(iterations))[0].AsI64();
        }

        return (result, engine.Fuel, engine.Interpreter.CompiledFunctionCount);
    }

    [Fact]
    public void Invoke_CalleeBurningFuel_CompiledByItsOwnWorkOnly()
    {
        var interpreted = Run(compiled: false, calls: 8, iterations: 2_000);
        var tiered = Run(compiled: true, calls: 8, iterations: 2_000);

        interpreted.Compiled.ShouldBe(0);
        tiered.Compiled.ShouldBe(1);
        tiered.Result.ShouldBe(interpreted.Result);
        tiered.FuelLeft.ShouldBe(interpreted.FuelLeft);
    }

    [Fact]
    public void Invoke_CalleeUnderTheFuelThreshold_StaysInterpreted()
    {
        // 40 calls of 20 iterations: a few thousand units of fuel in all, under the threshold.
        Run(compiled: true, calls: 8, iterations: 20).Compiled.ShouldBe(0);
    }
}
