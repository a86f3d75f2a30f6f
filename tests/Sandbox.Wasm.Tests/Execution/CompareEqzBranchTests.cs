using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests.Execution;

/// <summary>
/// A comparison, i32.eqz, then br_if or if: the IL tier emits one compare-and-branch with the sense inverted
/// (IlCompiler.Integer). Every i32 and i64 comparison, on edge values, gives the same bits in both tiers and the
/// bits C# computes; fixture compare-eqz-branch.
/// </summary>
public sealed class CompareEqzBranchTests
{
    private static WasmEngine Engine(bool compiled) => new(new WasmEngineOptions { UseCompiler = compiled, CompileThreshold = 1, CompileLoopThreshold = 1 });

    /// <summary>Bit k set when comparison k holds: eq, ne, lt_s, lt_u, gt_s, gt_u, le_s, le_u, ge_s, ge_u.</summary>
    private static int Expected(long x, long y, bool wide)
    {
        var (ux, uy) = wide ? (unchecked((ulong)x), unchecked((ulong)y)) : (unchecked((uint)x), unchecked((uint)y));
        bool[] holds = [x == y, x != y, x < y, ux < uy, x > y, ux > uy, x <= y, ux <= uy, x >= y, ux >= uy];
        return holds.Select((h, k) => h ? 1 << k : 0).Sum();
    }

    [Theory]
    [InlineData(0L, 0L)]
    [InlineData(-1L, 1L)]
    [InlineData(1L, -1L)]
    [InlineData(5L, 7L)]
    [InlineData(int.MinValue, int.MaxValue)]
    [InlineData(int.MaxValue, int.MinValue)]
    [InlineData(long.MinValue, long.MaxValue)]
    [InlineData(-1L, -1L)]
    public void CompareEqzBranch_EveryComparison_SameBitsInBothTiers(long x, long y)
    {
        foreach (var compiled in new[] { false, true })
        {
            var engine = Engine(compiled);
            var instance = Fixture.Instantiate(engine, "compare-eqz-branch");
            foreach (var form in new[] { "br_if", "if" })
            {
                instance.Invoke($"{form}_i32", WasmValue.I32(unchecked((int)x)), WasmValue.I32(unchecked((int)y)))[0].AsI32()
                    .ShouldBe(Expected(unchecked((int)x), unchecked((int)y), wide: false), $"{form}_i32 compiled={compiled}");
                instance.Invoke($"{form}_i64", WasmValue.I64(x), WasmValue.I64(y))[0].AsI32()
                    .ShouldBe(Expected(x, y, wide: true), $"{form}_i64 compiled={compiled}");
            }

            engine.Interpreter.CompiledFunctionCount.ShouldBe(compiled ? 4 : 0);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(10, 10)]
    [InlineData(-3, 1)]
    public void CompareEqzBranch_LoopBackEdge_SameStepsAndFuelInBothTiers(int n, int steps)
    {
        (int Steps, long FuelLeft) Run(bool compiled)
        {
            var engine = Engine(compiled);
            var instance = Fixture.Instantiate(engine, "compare-eqz-branch");
            engine.Fuel = 1_000_000;
            var result = instance.Invoke("count_down", WasmValue.I32(n))[0].AsI32();
            engine.Interpreter.CompiledFunctionCount.ShouldBe(compiled ? 1 : 0);
            return (result, engine.Fuel);
        }

        var interpreted = Run(compiled: false);
        var compiled = Run(compiled: true);
        interpreted.Steps.ShouldBe(steps);
        compiled.ShouldBe(interpreted);
    }
}
