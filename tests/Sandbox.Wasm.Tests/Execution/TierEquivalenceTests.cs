using System.Text;
using Sandbox.Wasm.Tests.Support;
using Sandbox.Wasm.Wasi;

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

    /// <summary>
    /// The bench's C programs of other shapes (Differential/Programs: a hash over a buffer, f64 matrix multiply, a
    /// switch-dispatch interpreter, memcpy/memmove) at small sizes: same stdout and the same fuel left whether
    /// interpreted, compiled on first call, or entered mid-loop; the expected stdout is what Node 20 prints.
    /// </summary>
    [Theory]
    [InlineData("hashbuf", "1", "crc32 7aaff9ca fnv1a fa97863250cb6cdd\n")]
    [InlineData("matmul", "24", "n=24 sum=-1.062500 weighted=18.468750\n")]
    [InlineData("bytecode", "50", "bytecode 1063398\n")]
    [InlineData("memcpy", "2", "memcpy 2134629006\n")]
    public void Run_BenchProgram_SameOutputAndSameFuelLeftInBothTiers(string program, string arg, string expected)
    {
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Differential", "Programs", program + ".wasm"));
        (string Stdout, long FuelLeft, int Compiled) Run(bool compiled, bool loopOnly = false)
        {
            // A module per run: compiled code is kept on the module, and each run must compile (or replace) its own.
            var engine = Engine(compiled, loopOnly);
            var module = engine.Compile(bytes, TestContext.Current.CancellationToken);
            var host = new WasiHost(new WasiOptions { Args = [program, arg] });
            var linker = new WasmLinker();
            host.Define(engine, linker);
            engine.Fuel = 20_000_000_000;
            var exitCode = engine.RunOnExecutionThread(() =>
            {
                try
                {
                    engine.Instantiate(module, linker).Invoke("_start");
                    return 0;
                }
                catch (WasiExitException exit)
                {
                    return exit.ExitCode;
                }
            });
            exitCode.ShouldBe(0);
            return (Encoding.UTF8.GetString(host.Stdout.Span), engine.Fuel, engine.Interpreter.CompiledFunctionCount);
        }

        var interpreted = Run(compiled: false);
        var compiled = Run(compiled: true);
        var replaced = Run(compiled: true, loopOnly: true);

        interpreted.Stdout.ShouldBe(expected);
        compiled.Stdout.ShouldBe(expected);
        replaced.Stdout.ShouldBe(expected);
        compiled.FuelLeft.ShouldBe(interpreted.FuelLeft);
        replaced.FuelLeft.ShouldBe(interpreted.FuelLeft);
        compiled.Compiled.ShouldBeGreaterThan(0);
        replaced.Compiled.ShouldBeGreaterThan(0);
    }
}
