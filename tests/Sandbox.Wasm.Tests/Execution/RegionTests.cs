using System.Diagnostics;
using System.Text;
using Sandbox.Wasm.Tests.Support;
using Sandbox.Wasm.Wasi;

namespace Sandbox.Wasm.Tests.Execution;

/// <summary>
/// A function too large for one optimised .NET method runs as several (IlCompiler.Regions): the same results and the
/// same fuel as the interpreter, and a loop that never ends still stops at its fuel and at an interrupt (the backend's
/// wall-clock deadline), also when the loop runs through several regions. Tiny regions (a few instructions each) split
/// every function, so every region edge (fall-through, branch, br_table, call, return, loop header) is crossed.
/// </summary>
public sealed class RegionTests
{
    /// <summary>Regions of about this many bytes of IL: a handful of instructions each.</summary>
    private const int TinyRegions = 64;

    private static WasmEngine Engine(bool compiled, bool loopOnly = false, int regionIlBytes = TinyRegions) => new(new WasmEngineOptions
    {
        UseCompiler = compiled,
        CompileThreshold = loopOnly ? int.MaxValue : 1,
        CompileLoopThreshold = loopOnly ? 7 : 1,
        CompileRegionIlBytes = regionIlBytes,
    });

    [Theory]
    [InlineData("counter-loop", "run", 100_000, "count")]
    [InlineData("counter-loop", "run", 12_345, "count")]
    [InlineData("fuel-calls", "f", 50_000, "calls")]
    [InlineData("fuel-calls", "f", 777, "calls")]
    public void Invoke_OutOfFuel_SplitFunctionStopsAtTheInterpretersCounter(string fixture, string export, long fuel, string counter)
    {
        WasmValue[] args = fixture == "fuel-calls" ? [WasmValue.I32(40)] : [];
        (long Counter, WasmTrapKind Kind, int Split) Stop(bool compiled, bool loopOnly = false)
        {
            var engine = Engine(compiled, loopOnly);
            var instance = Fixture.Instantiate(engine, fixture);
            engine.Fuel = fuel;
            var trap = Should.Throw<WasmTrapException>(() => instance.Invoke(export, args));
            var value = instance.GetGlobal(counter)!.Value;
            return (value.Type == WasmValueType.I64 ? value.AsI64() : value.AsI32(), trap.Kind, engine.Interpreter.SplitFunctionCount);
        }

        var interpreted = Stop(compiled: false);
        var split = Stop(compiled: true);
        var replaced = Stop(compiled: true, loopOnly: true);

        interpreted.Kind.ShouldBe(WasmTrapKind.OutOfFuel);
        split.Kind.ShouldBe(WasmTrapKind.OutOfFuel);
        replaced.Kind.ShouldBe(WasmTrapKind.OutOfFuel);
        interpreted.Counter.ShouldBeGreaterThan(0);
        split.Counter.ShouldBe(interpreted.Counter);
        replaced.Counter.ShouldBe(interpreted.Counter);
        split.Split.ShouldBeGreaterThan(0);
    }

    [Theory]
    [InlineData("count_primes", 2_000)]
    [InlineData("fib", 18)]
    [InlineData("mix", 20)]
    [InlineData("matmul", 40)]
    public void Invoke_CKernelSplit_SameResultAndSameFuelLeftAsInterpreter(string export, int arg)
    {
        (int Result, long FuelLeft, int Split, int ReturnCopies) Run(bool compiled, bool loopOnly = false)
        {
            var engine = Engine(compiled, loopOnly);
            var instance = Fixture.Instantiate(engine, "kernels");
            engine.Fuel = 1_000_000_000;
            var result = instance.Invoke(export, WasmValue.I32(arg))[0].AsI32();
            return (result, engine.Fuel, engine.Interpreter.SplitFunctionCount, engine.Interpreter.ReturnCopyCount);
        }

        var interpreted = Run(compiled: false);
        var split = Run(compiled: true);
        var replaced = Run(compiled: true, loopOnly: true);

        split.Result.ShouldBe(interpreted.Result);
        split.FuelLeft.ShouldBe(interpreted.FuelLeft);
        split.Split.ShouldBeGreaterThan(0);
        split.ReturnCopies.ShouldBeGreaterThan(0, "its epilogue is a return block, copied into the regions that jump to it, and run from them above");
        replaced.Result.ShouldBe(interpreted.Result);
        replaced.FuelLeft.ShouldBe(interpreted.FuelLeft);
    }

    [Theory]
    [InlineData("hashbuf", "1", "crc32 7aaff9ca fnv1a fa97863250cb6cdd\n")]
    [InlineData("matmul", "24", "n=24 sum=-1.062500 weighted=18.468750\n")]
    [InlineData("bytecode", "50", "bytecode 1063398\n")]
    [InlineData("memcpy", "2", "memcpy 2134629006\n")]
    public void Run_BenchProgramSplit_SameOutputAndSameFuelLeftAsInterpreter(string program, string arg, string expected)
    {
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Differential", "Programs", program + ".wasm"));
        (string Stdout, long FuelLeft, int Split, int Copies, int ReturnCopies) Run(bool compiled, bool loopOnly = false)
        {
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
            return (Encoding.UTF8.GetString(host.Stdout.Span), engine.Fuel, engine.Interpreter.SplitFunctionCount, engine.Interpreter.DispatchCopyCount, engine.Interpreter.ReturnCopyCount);
        }

        var interpreted = Run(compiled: false);
        var split = Run(compiled: true);
        var replaced = Run(compiled: true, loopOnly: true);

        interpreted.Stdout.ShouldBe(expected);
        split.Stdout.ShouldBe(expected);
        replaced.Stdout.ShouldBe(expected);
        split.FuelLeft.ShouldBe(interpreted.FuelLeft);
        replaced.FuelLeft.ShouldBe(interpreted.FuelLeft);
        split.Split.ShouldBeGreaterThan(0);
        replaced.Split.ShouldBeGreaterThan(0);
        split.ReturnCopies.ShouldBeGreaterThan(0, "epilogues are return blocks, copied into the regions that jump to them, and run from them above");
        if (program == "bytecode")
        {
            // Its switch loop is a dispatch block (loop header, then straight to a br_table): copied into the regions
            // that jump back to it, and those copies ran above.
            split.Copies.ShouldBeGreaterThan(0);
        }
    }

    /// <summary>
    /// Attack: a loop through several regions crossing region edges millions of times, on a thread with a small host
    /// stack. A region enters the next by a tail call (a jump), not by returning to <c>RegionedCode.Run</c>; a handover
    /// the JIT did not honour as a tail call would leave one host frame per crossing.
    /// Expected: the right sum and no trap, in constant host stack. The loop also calls a compiled function each time
    /// round, whose entry probes the host stack: frames left behind would trap CallStackExhausted there (this test fails)
    /// rather than overflow the stack and end the test process. (Dropping only the <c>tail.</c> prefix passes in Release:
    /// the optimising JIT makes a <c>call; ret</c> a tail call of its own accord; a call with work after it fails here.)
    /// </summary>
    [Fact]
    public void Invoke_MillionsOfRegionCrossingsOnSmallStackThread_ConstantHostStackAndRightResult()
    {
        const int Iterations = 500_000;

        // Regions of 128 bytes: run (nine groups a time round) splits, step stays one method.
        var engine = Engine(compiled: true, regionIlBytes: 128);
        var instance = Fixture.Instantiate(engine, "region-loop");
        engine.Fuel = 1_000_000_000;
        long result = 0;
        Exception? failure = null;

        // 256 KiB: room for the test's own frames, none for one host frame per crossing.
        var thread = new Thread(
            () =>
            {
                try
                {
                    result = instance.Invoke("run", WasmValue.I32(Iterations))[0].AsI64();
                }
                catch (Exception e)
                {
                    failure = e;
                }
            },
            maxStackSize: 256 * 1024);
        thread.Start();
        thread.Join();

        failure.ShouldBeNull();
        result.ShouldBe(Iterations * 9L);
        engine.Interpreter.SplitFunctionCount.ShouldBe(1, "run is split into tiny regions; step is too small to split");
        engine.Interpreter.CompiledFunctionCount.ShouldBe(2);

        // Regions are runs of consecutive instructions and the loop is run's straight-line body from its first
        // instruction, so every region but the epilogue's holds part of it and is entered each time round: at least
        // (regions - 1) edges crossed per iteration, the back edge included.
        var regions = engine.Interpreter.SplitRegionCount;
        regions.ShouldBeGreaterThanOrEqualTo(3);
        ((long)Iterations * (regions - 1)).ShouldBeGreaterThanOrEqualTo(1_000_000);
    }

    /// <summary>With the default options: a loop body of 3,000 groups is too large for one optimised method, so it is split.</summary>
    [Fact]
    public void Invoke_LongInfiniteLoopDefaultOptions_SplitAndStopsAtTheInterpretersFuel()
    {
        var module = HostileModules.LongInfiniteLoop(groups: 3_000);
        (long Counter, WasmTrapKind Kind, int Split, int Compiled) Stop(bool compiled)
        {
            var engine = new WasmEngine(new WasmEngineOptions { UseCompiler = compiled, CompileThreshold = 1, CompileLoopThreshold = 1 });
            var instance = engine.Instantiate(engine.Compile(module, TestContext.Current.CancellationToken));
            engine.Fuel = 1_000_000;
            var trap = Should.Throw<WasmTrapException>(() => instance.Invoke("run"));
            return (instance.GetGlobal("count")!.Value.AsI64(), trap.Kind, engine.Interpreter.SplitFunctionCount, engine.Interpreter.CompiledFunctionCount);
        }

        var interpreted = Stop(compiled: false);
        var split = Stop(compiled: true);

        interpreted.Kind.ShouldBe(WasmTrapKind.OutOfFuel);
        split.Kind.ShouldBe(WasmTrapKind.OutOfFuel);
        interpreted.Counter.ShouldBeGreaterThan(3_000);
        split.Counter.ShouldBe(interpreted.Counter);
        split.Compiled.ShouldBe(1);
        split.Split.ShouldBe(1);
    }

    /// <summary>The backend's wall-clock deadline is an interrupt: a split loop that never ends still stops at it, promptly.</summary>
    [Fact]
    public async Task RequestInterrupt_DuringSplitInfiniteLoop_TrapsInterruptedPromptly()
    {
        var engine = new WasmEngine(new WasmEngineOptions { CompileThreshold = 1, CompileLoopThreshold = 1 });
        var instance = engine.Instantiate(engine.Compile(HostileModules.LongInfiniteLoop(groups: 3_000), TestContext.Current.CancellationToken));
        var run = Task.Run(() => Should.Throw<WasmTrapException>(() => instance.Invoke("run")));
        while (instance.GetGlobal("count")!.Value.AsI64() < 100_000)
        {
            await Task.Yield();
        }

        var requested = Stopwatch.StartNew();
        engine.RequestInterrupt();
        var trap = await run.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        trap.Kind.ShouldBe(WasmTrapKind.Interrupted);
        requested.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(1));
        engine.Interpreter.SplitFunctionCount.ShouldBe(1);
    }
}
