using System.Diagnostics;
using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests.Execution;

/// <summary>
/// The IL tier's work is bounded by <see cref="WasmEngineOptions.CompileMaxWork"/> (issue 10): a function whose frame
/// slots times loop headers would cost the .NET JIT seconds and gigabytes stays in the interpreter, and still runs
/// to the right result; an ordinary function of the same shape is still compiled.
/// </summary>
public sealed class CompileBudgetTests
{
    private static WasmEngine Engine() => new(new WasmEngineOptions { CompileLoopThreshold = 1_000 });

    [Fact]
    public void Invoke_ManyLocalsTimesManyLoops_StaysInterpretedAndFinishesFast()
    {
        // 2,000 locals × 61 OSR entries: 122,000 units, over the default budget. Without it the JIT compiles this
        // in about 0.5 s; the issue's 50,000 × 200 took 114 s and 23 GB (too dangerous to run here unfixed).
        var engine = Engine();
        var instance = engine.Instantiate(engine.Compile(HostileModules.WideFrameLoops(locals: 2_000, iterations: 5_000, emptyLoops: 60), TestContext.Current.CancellationToken));
        var watch = Stopwatch.StartNew();

        instance.Invoke("run");

        engine.Interpreter.CompiledFunctionCount.ShouldBe(0);
        engine.Interpreter.CompileFallbackCount.ShouldBe(1);
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void Invoke_IssueModuleFiftyThousandLocalsTwoHundredLoops_InterpretedWithinSeconds()
    {
        // The reviewer's module: 200,000 iterations send it to the IL tier, then 200 empty loops. With the budget it
        // never reaches the JIT, so it finishes in interpreter time (and the managed heap barely moves).
        var engine = new WasmEngine();
        var instance = engine.Instantiate(engine.Compile(HostileModules.WideFrameLoops(locals: 50_000, iterations: 200_000, emptyLoops: 200), TestContext.Current.CancellationToken));
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();

        instance.Invoke("run");

        engine.Interpreter.CompiledFunctionCount.ShouldBe(0);
        engine.Interpreter.CompileFallbackCount.ShouldBe(1);
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5));
        (GC.GetAllocatedBytesForCurrentThread() - allocated).ShouldBeLessThan(32L * 1024 * 1024);
    }

    [Fact]
    public void Invoke_FewLocalsManyLoops_StillCompiled()
    {
        var engine = Engine();
        var instance = engine.Instantiate(engine.Compile(HostileModules.WideFrameLoops(locals: 10, iterations: 5_000, emptyLoops: 60), TestContext.Current.CancellationToken));

        instance.Invoke("run");

        engine.Interpreter.CompiledFunctionCount.ShouldBe(1);
        engine.Interpreter.CompileFallbackCount.ShouldBe(0);
    }
}
