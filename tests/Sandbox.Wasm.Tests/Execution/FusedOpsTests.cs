using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests.Execution;

/// <summary>Expected values were cross-checked against Node 20 (V8) running the same fixture.</summary>
public sealed class FusedOpsTests
{
    private static readonly WasmInstance s_instance = Fixture.Instantiate(new WasmEngine(), "fused-ops");

    private static int I32(string name, params int[] args) =>
        s_instance.Invoke(name, args.Select(WasmValue.I32).ToArray())[0].AsI32();

    [Fact]
    public void FusedStore_LocalValueAtLocalAddress_RoundTrips()
    {
        I32("store_ll", 100, -123456).ShouldBe(-123456);
    }

    [Fact]
    public void FusedStore_OffsetAbove2Pow31_TrapsOutOfBounds()
    {
        Should.Throw<WasmTrapException>(() => s_instance.Invoke("store_ll_huge_offset", WasmValue.I32(0), WasmValue.I32(1)))
            .Kind.ShouldBe(WasmTrapKind.OutOfBoundsMemoryAccess);
    }

    [Theory]
    [InlineData(15, 10)]
    [InlineData(-15, -20)]
    [InlineData(int.MinValue, 2147483642)]
    public void FusedLocalImmediate_SetAndTee_MatchPlainSemantics(int x, int expected)
    {
        I32("local_imm", x).ShouldBe(expected);
    }

    [Theory]
    [InlineData(-1, 0, 2)]
    [InlineData(5, 1, 0)]
    [InlineData(1, 5, 1)]
    [InlineData(-2, -1, 1)]
    [InlineData(int.MinValue, int.MaxValue, 1)]
    [InlineData(-1, -5, 0)]
    public void FusedCompareBranch_SignedAndUnsigned_TakeTheRightBranch(int x, int y, int expected)
    {
        I32("cmp_br", x, y).ShouldBe(expected);
    }

    [Fact]
    public void FusedDivision_ByZeroAndOverflow_Trap()
    {
        I32("div_ll", -7, 2).ShouldBe(-3);
        Should.Throw<WasmTrapException>(() => I32("div_ll", 1, 0)).Kind.ShouldBe(WasmTrapKind.IntegerDivideByZero);
        Should.Throw<WasmTrapException>(() => I32("div_ll", int.MinValue, -1)).Kind.ShouldBe(WasmTrapKind.IntegerOverflow);
    }

    [Fact]
    public void FusedI64Immediate_FullWidthConstant_Preserved()
    {
        s_instance.Invoke("i64_imm", WasmValue.I64(-1))[0].AsI64().ShouldBe(~0x7FFF_0000_0000_FFFFL);
    }
}
