using System.Runtime.CompilerServices;

namespace Sandbox.Wasm.Execution;

/// <summary>
/// The numeric operations whose WebAssembly semantics differ from a plain C# operator: trapping and
/// saturating float-to-int conversions, unsigned int-to-float conversions (correctly rounded), and
/// sign-bit operations done on bits so NaN payloads survive (spec 4.3.3).
/// </summary>
internal static class NumericOps
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int TruncI32(double x, bool trap = true)
    {
        if (double.IsNaN(x))
        {
            return trap ? Fail(WasmTrapKind.InvalidConversionToInteger) : 0;
        }

        if (x <= -2147483649.0 || x >= 2147483648.0)
        {
            return trap ? Fail(WasmTrapKind.IntegerOverflow) : x < 0 ? int.MinValue : int.MaxValue;
        }

        return (int)x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint TruncU32(double x, bool trap = true)
    {
        if (double.IsNaN(x))
        {
            return trap ? (uint)Fail(WasmTrapKind.InvalidConversionToInteger) : 0;
        }

        if (x <= -1.0 || x >= 4294967296.0)
        {
            return trap ? (uint)Fail(WasmTrapKind.IntegerOverflow) : x < 0 ? 0 : uint.MaxValue;
        }

        return (uint)x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long TruncI64(double x, bool trap = true)
    {
        if (double.IsNaN(x))
        {
            return trap ? Fail(WasmTrapKind.InvalidConversionToInteger) : 0;
        }

        if (x < -9223372036854775808.0 || x >= 9223372036854775808.0)
        {
            return trap ? Fail(WasmTrapKind.IntegerOverflow) : x < 0 ? long.MinValue : long.MaxValue;
        }

        return (long)x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong TruncU64(double x, bool trap = true)
    {
        if (double.IsNaN(x))
        {
            return trap ? (ulong)Fail(WasmTrapKind.InvalidConversionToInteger) : 0;
        }

        if (x <= -1.0 || x >= 18446744073709551616.0)
        {
            return trap ? (ulong)Fail(WasmTrapKind.IntegerOverflow) : x < 0 ? 0 : ulong.MaxValue;
        }

        return (ulong)x;
    }

    /// <summary>u64 → f64 with one rounding: above 2^63, halve keeping a sticky bit, convert (exact scale back).</summary>
    public static double U64ToF64(ulong v) =>
        (long)v >= 0 ? (long)v : (double)(long)((v >> 1) | (v & 1)) * 2.0;

    /// <summary>
    /// i64 → f32 with one rounding. Converting through double would round twice, so large magnitudes are
    /// first shrunk to 53 significant bits with a sticky bit (exact in double), then rounded once to float.
    /// </summary>
    public static float I64ToF32(long v)
    {
        var magnitude = v < 0 ? (ulong)-v : (ulong)v;
        if (magnitude < (1UL << 53))
        {
            return (float)(double)v;
        }

        var shift = 64 - System.Numerics.BitOperations.LeadingZeroCount(magnitude) - 53;
        var sticky = (magnitude & ((1UL << shift) - 1)) != 0 ? 1UL : 0UL;
        var reduced = (double)((magnitude >> shift) | sticky) * Math.Pow(2, shift);
        return (float)(v < 0 ? -reduced : reduced);
    }

    /// <summary>u64 → f32 with one rounding, by the same 53-bit-plus-sticky reduction as <see cref="I64ToF32"/>.</summary>
    public static float U64ToF32Exact(ulong v)
    {
        if (v < (1UL << 53))
        {
            return (float)(double)v;
        }

        var shift = 64 - System.Numerics.BitOperations.LeadingZeroCount(v) - 53;
        var sticky = (v & ((1UL << shift) - 1)) != 0 ? 1UL : 0UL;
        return (float)((double)((v >> shift) | sticky) * Math.Pow(2, shift));
    }

    /// <summary>IEEE 754-2019 minimum/maximum: NaN if either is NaN, and -0 &lt; +0.</summary>
    public static float Min(float a, float b) => float.IsNaN(a) || float.IsNaN(b) ? float.NaN : MathF.Min(a, b);

    public static float Max(float a, float b) => float.IsNaN(a) || float.IsNaN(b) ? float.NaN : MathF.Max(a, b);

    public static double Min(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Min(a, b);

    public static double Max(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Max(a, b);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Fail(WasmTrapKind kind) => throw new WasmTrapException(kind);
}
