using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Sandbox.Wasm.Execution;

/// <remarks>
/// Loads and stores of the IL tier (LoadXX/StoreXX, XX the WebAssembly opcode). Two checks guard every access:
/// the explicit one against the guest-visible length (the array may be larger, see WasmMemory), which is the
/// WebAssembly semantics, and the runtime's own array/span bounds check underneath it, so even a bug here could
/// never touch memory outside the guest's array. No unsafe code.
/// </remarks>
internal static partial class JitOps
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load28(byte[] mem, ulong length, ulong address, long offset) // i32.load
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 4 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        return BinaryPrimitives.ReadUInt32LittleEndian(mem.AsSpan(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load29(byte[] mem, ulong length, ulong address, long offset) // i64.load
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 8 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        return BinaryPrimitives.ReadUInt64LittleEndian(mem.AsSpan(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load2A(byte[] mem, ulong length, ulong address, long offset) // f32.load
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 4 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        return BinaryPrimitives.ReadUInt32LittleEndian(mem.AsSpan(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load2B(byte[] mem, ulong length, ulong address, long offset) // f64.load
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 8 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        return BinaryPrimitives.ReadUInt64LittleEndian(mem.AsSpan(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load2C(byte[] mem, ulong length, ulong address, long offset) // i32.load8_s
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 1 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        return (uint)(sbyte)mem[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load2D(byte[] mem, ulong length, ulong address, long offset) // i32.load8_u
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 1 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        return mem[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load2E(byte[] mem, ulong length, ulong address, long offset) // i32.load16_s
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 2 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        return (uint)BinaryPrimitives.ReadInt16LittleEndian(mem.AsSpan(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load2F(byte[] mem, ulong length, ulong address, long offset) // i32.load16_u
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 2 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        return BinaryPrimitives.ReadUInt16LittleEndian(mem.AsSpan(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load30(byte[] mem, ulong length, ulong address, long offset) // i64.load8_s
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 1 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        return (ulong)(long)(sbyte)mem[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load31(byte[] mem, ulong length, ulong address, long offset) // i64.load8_u
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 1 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        return mem[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load32(byte[] mem, ulong length, ulong address, long offset) // i64.load16_s
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 2 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        return (ulong)(long)BinaryPrimitives.ReadInt16LittleEndian(mem.AsSpan(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load33(byte[] mem, ulong length, ulong address, long offset) // i64.load16_u
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 2 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        return BinaryPrimitives.ReadUInt16LittleEndian(mem.AsSpan(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load34(byte[] mem, ulong length, ulong address, long offset) // i64.load32_s
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 4 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        return (ulong)(long)BinaryPrimitives.ReadInt32LittleEndian(mem.AsSpan(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load35(byte[] mem, ulong length, ulong address, long offset) // i64.load32_u
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 4 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        return BinaryPrimitives.ReadUInt32LittleEndian(mem.AsSpan(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store36(byte[] mem, ulong length, ulong address, long offset, ulong value) // i32.store
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 4 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        BinaryPrimitives.WriteUInt32LittleEndian(mem.AsSpan(i), (uint)value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store37(byte[] mem, ulong length, ulong address, long offset, ulong value) // i64.store
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 8 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        BinaryPrimitives.WriteUInt64LittleEndian(mem.AsSpan(i), value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store38(byte[] mem, ulong length, ulong address, long offset, ulong value) // f32.store
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 4 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        BinaryPrimitives.WriteUInt32LittleEndian(mem.AsSpan(i), (uint)value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store39(byte[] mem, ulong length, ulong address, long offset, ulong value) // f64.store
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 8 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        BinaryPrimitives.WriteUInt64LittleEndian(mem.AsSpan(i), value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store3A(byte[] mem, ulong length, ulong address, long offset, ulong value) // i32.store8
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 1 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        mem[i] = (byte)value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store3B(byte[] mem, ulong length, ulong address, long offset, ulong value) // i32.store16
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 2 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        BinaryPrimitives.WriteUInt16LittleEndian(mem.AsSpan(i), (ushort)value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store3C(byte[] mem, ulong length, ulong address, long offset, ulong value) // i64.store8
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 1 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        mem[i] = (byte)value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store3D(byte[] mem, ulong length, ulong address, long offset, ulong value) // i64.store16
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 2 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        BinaryPrimitives.WriteUInt16LittleEndian(mem.AsSpan(i), (ushort)value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store3E(byte[] mem, ulong length, ulong address, long offset, ulong value) // i64.store32
    {
        var ea = (uint)address + (ulong)offset;
        if (ea + 4 > length)
        {
            Interpreter.Throw(WasmTrapKind.OutOfBoundsMemoryAccess);
        }

        var i = (int)ea;
        BinaryPrimitives.WriteUInt32LittleEndian(mem.AsSpan(i), (uint)value);
    }
}
