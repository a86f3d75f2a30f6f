using System.Globalization;

namespace Sandbox.Wasm;

/// <summary>A typed WebAssembly value as raw bits (floats bit-exact, references as engine handles, 0 = null).</summary>
public readonly record struct WasmValue(WasmValueType Type, ulong Bits)
{
    public static WasmValue I32(int value) => new(WasmValueType.I32, (uint)value);

    public static WasmValue I64(long value) => new(WasmValueType.I64, (ulong)value);

    public static WasmValue F32(float value) => new(WasmValueType.F32, BitConverter.SingleToUInt32Bits(value));

    public static WasmValue F64(double value) => new(WasmValueType.F64, BitConverter.DoubleToUInt64Bits(value));

    public int AsI32() => (int)(uint)Bits;

    public long AsI64() => (long)Bits;

    public float AsF32() => BitConverter.UInt32BitsToSingle((uint)Bits);

    public double AsF64() => BitConverter.UInt64BitsToDouble(Bits);

    public override string ToString() => Type switch
    {
        WasmValueType.I32 => AsI32().ToString(CultureInfo.InvariantCulture),
        WasmValueType.I64 => AsI64().ToString(CultureInfo.InvariantCulture),
        WasmValueType.F32 => AsF32().ToString(CultureInfo.InvariantCulture),
        WasmValueType.F64 => AsF64().ToString(CultureInfo.InvariantCulture),
        _ => Bits == 0 ? "null" : $"ref {Bits}",
    };
}
