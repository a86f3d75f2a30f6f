using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests.Execution;

/// <summary>
/// The IL tier and the interpreter are interchangeable: same results, and fuel charged at the same points in the
/// same amounts, so the same program with the same fuel stops at the same instruction (and a completed run leaves
/// the same fuel) whichever tier ran it. Each case runs once per tier and compares.
/// </summary>
public sealed class TierEquivalenceTests
{
    /// <summary>compiled: every function compiled on its first call; loopOnly: never on a call, only mid-loop
    /// after a few iterations (on-stack replacement from the interpreter).</summary>
    private static WasmEngine Engine(bool compiled, bool loopOnly = false) => new(new WasmEngineOptions
    {
        UseCompiler = compiled,
        CompileThreshold = loopOnly ? int.MaxValue : 1,
        CompileLoopThreshold = loopOnly ? 7 : 1,
    });

    private static (long Counter, WasmTrapKind Kind, int Compiled) StopWithFuel(bool compiled, string fixture, string export, long fuel, WasmValue[] args, string counter, bool loopOnly = false)
    {
        var engine = Engine(compiled, loopOnly);
        var instance = Fixture.Instantiate(engine, fixture);
        engine.Fuel = fuel;
        var trap = Should.Throw<WasmTrapException>(() => instance.Invoke(export, args));
        var value = instance.GetGlobal(counter)!.Value;
        return (value.Type == WasmValueType.I64 ? value.AsI64() : value.AsI32(), trap.Kind, engine.Interpreter.CompiledFunctionCount);
    }

    [Theory]
    [InlineData("counter-loop", "run", 100_000, 0, "count")]
    [InlineData("counter-loop", "run", 12_345, 0, "count")]
    [InlineData("fuel-calls", "f", 50_000, 40, "calls")]
    [InlineData("fuel-calls", "f", 777, 40, "calls")]
    public void Invoke_OutOfFuel_BothTiersStopAtTheSameCounter(string fixture, string export, long fuel, int arg, string counter)
    {
        WasmValue[] args = fixture == "fuel-calls" ? [WasmValue.I32(arg)] : [];

        var interpreted = StopWithFuel(compiled: false, fixture, export, fuel, args, counter);
        var compiled = StopWithFuel(compiled: true, fixture, export, fuel, args, counter);

        interpreted.Kind.ShouldBe(WasmTrapKind.OutOfFuel);
        compiled.Kind.ShouldBe(WasmTrapKind.OutOfFuel);
        interpreted.Counter.ShouldBeGreaterThan(0);
        compiled.Counter.ShouldBe(interpreted.Counter);
        interpreted.Compiled.ShouldBe(0);
        compiled.Compiled.ShouldBeGreaterThan(0);

        var replaced = StopWithFuel(compiled: true, fixture, export, fuel, args, counter, loopOnly: true);
        replaced.Kind.ShouldBe(WasmTrapKind.OutOfFuel);
        replaced.Counter.ShouldBe(interpreted.Counter);
    }

    [Theory]
    [InlineData("count_primes", 2_000)]
    [InlineData("fib", 18)]
    [InlineData("mix", 20)]
    [InlineData("matmul", 40)]
    public void Invoke_CKernel_SameResultAndSameFuelLeftInBothTiers(string export, int arg)
    {
        (int Result, long FuelLeft, int Compiled) Run(bool compiled, bool loopOnly = false)
        {
            var engine = Engine(compiled, loopOnly);
            var instance = Fixture.Instantiate(engine, "kernels");
            engine.Fuel = 1_000_000_000;
            var result = instance.Invoke(export, WasmValue.I32(arg))[0].AsI32();
            return (result, engine.Fuel, engine.Interpreter.CompiledFunctionCount);
        }

        var interpreted = Run(compiled: false);
        var compiled = Run(compiled: true);

        compiled.Result.ShouldBe(interpreted.Result);
        compiled.FuelLeft.ShouldBe(interpreted.FuelLeft);
        interpreted.FuelLeft.ShouldBeLessThan(1_000_000_000);
        compiled.Compiled.ShouldBeGreaterThan(0);

        // Entered mid-loop from the interpreter: same result and same fuel as well.
        var replaced = Run(compiled: true, loopOnly: true);
        replaced.Result.ShouldBe(interpreted.Result);
        replaced.FuelLeft.ShouldBe(interpreted.FuelLeft);
        if (export != "fib")
        {
            replaced.Compiled.ShouldBeGreaterThan(0);
        }
    }
}
