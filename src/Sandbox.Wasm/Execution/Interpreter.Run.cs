using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Sandbox.Wasm.Execution;

/// <remarks>
/// The dispatch loop. Deliberately one method with one dense switch: the JIT turns it into a jump table,
/// and the hot state (stack array, stack pointer, program counter, memory buffer and its length) stays in
/// locals. The memory buffer is re-read after anything that can grow memory (memory.grow and calls).
/// Integer arithmetic wraps because this project compiles unchecked (see the .csproj).
/// The numeric arms were generated from a table of opcode → (operand types, result type, expression),
/// including the fused integer variants (0x1xx: second operand immediate, 0x2xx: second operand a local,
/// 0x3xx: both operands locals) that the translator's peephole pass emits.
/// AggressiveOptimization: without it the first long-running call executes in tier-0 or OSR code.
/// </remarks>
internal sealed partial class Interpreter
{
#pragma warning disable CA1502 // Cyclomatic complexity: one switch over every opcode is the point of the design.
#pragma warning disable CA1505 // Maintainability index: same reason.
#pragma warning disable CA1506 // Class coupling: same reason.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Run(WasmFunction function, int fp)
    {
        var compiled = function.Code!;
        EnterFrame(fp, compiled.MaxHeight);
        var s = _stack;
        var sp = fp + compiled.LocalCount;
        Array.Clear(s, fp + compiled.ParameterCount, compiled.LocalCount - compiled.ParameterCount);
        var code = compiled.Code;
        var pc = 0;
        var instance = function.Instance!;
        var memory = instance.Memory;
        var mem = memory?.Buffer ?? [];
        var memLength = (ulong)(memory?.ByteLength ?? 0);
        var globals = instance.Globals;

        while (true)
        {
            ref var ins = ref code[pc++];
            switch (ins.Op)
            {
                case OpCode.Unreachable:
                    Throw(WasmTrapKind.Unreachable);
                    break;
                case OpCode.Fuel:
                {
                    var fuel = Fuel - ins.A;
                    Fuel = fuel;
                    if (fuel < 0)
                    {
                        Throw(WasmTrapKind.OutOfFuel);
                    }

                    break;
                }

                case OpCode.LoopHeader:
                {
                    if (Volatile.Read(ref _interruptRequested))
                    {
                        Throw(WasmTrapKind.Interrupted);
                    }

                    var fuel = Fuel - ins.A;
                    Fuel = fuel;
                    if (fuel < 0)
                    {
                        Throw(WasmTrapKind.OutOfFuel);
                    }

                    break;
                }

                case OpCode.BrUnless:
                    if ((uint)s[--sp] == 0)
                    {
                        pc = ins.A;
                    }

                    break;
                case OpCode.Br:
                    pc = ins.A;
                    break;
                case OpCode.BrIf:
                    if ((uint)s[--sp] != 0)
                    {
                        pc = ins.A;
                    }

                    break;
                case OpCode.BrMove:
                    sp = MoveResults(s, sp, fp, ins.B);
                    pc = ins.A;
                    break;
                case OpCode.BrIfMove:
                    if ((uint)s[--sp] != 0)
                    {
                        sp = MoveResults(s, sp, fp, ins.B);
                        pc = ins.A;
                    }

                    break;
                case OpCode.BrTable:
                {
                    var index = (uint)s[--sp];
                    var count = (uint)ins.A;
                    ref var entry = ref code[pc + (int)(index < count ? index : count)];
                    sp = MoveResults(s, sp, fp, entry.B);
                    pc = entry.A;
                    break;
                }

                case OpCode.Return:
                {
                    var n = compiled.ResultCount;
                    var from = sp - n;
                    for (var i = 0; i < n; i++)
                    {
                        s[fp + i] = s[from + i];
                    }

                    _depth--;
                    return;
                }

                case OpCode.Call:
                {
                    var callee = instance.Functions[ins.A];
                    var calleeFp = sp - callee.ParameterCount;
                    if (callee.Code is not null)
                    {
                        Run(callee, calleeFp);
                    }
                    else
                    {
                        CallHost(callee, calleeFp, instance);
                    }

                    sp = calleeFp + callee.ResultCount;
                    if (memory is not null)
                    {
                        mem = memory.Buffer;
                        memLength = (ulong)memory.ByteLength;
                    }

                    break;
                }

                case OpCode.CallIndirect:
                {
                    var table = instance.Tables[(int)ins.B];
                    var index = (uint)s[--sp];
                    if (index >= (uint)table.Length)
                    {
                        Throw(WasmTrapKind.UndefinedElement);
                    }

                    var handle = table.Elements[index];
                    if (handle == 0)
                    {
                        Throw(WasmTrapKind.UninitializedElement);
                    }

                    var callee = _engine.FunctionFromHandle(handle);
                    if (callee.TypeId != instance.TypeIds[ins.A])
                    {
                        Throw(WasmTrapKind.IndirectCallTypeMismatch);
                    }

                    var calleeFp = sp - callee.ParameterCount;
                    if (callee.Code is not null)
                    {
                        Run(callee, calleeFp);
                    }
                    else
                    {
                        CallHost(callee, calleeFp, instance);
                    }

                    sp = calleeFp + callee.ResultCount;
                    if (memory is not null)
                    {
                        mem = memory.Buffer;
                        memLength = (ulong)memory.ByteLength;
                    }

                    break;
                }

                case OpCode.Drop:
                    sp--;
                    break;
                case OpCode.Select:
                    sp -= 2;
                    if ((uint)s[sp + 1] == 0)
                    {
                        s[sp - 1] = s[sp];
                    }

                    break;
                case OpCode.LocalGet:
                    s[sp++] = s[fp + ins.A];
                    break;
                case OpCode.LocalSet:
                    s[fp + ins.A] = s[--sp];
                    break;
                case OpCode.LocalTee:
                    s[fp + ins.A] = s[sp - 1];
                    break;
                case OpCode.GlobalGet:
                    s[sp++] = globals[ins.A].Bits;
                    break;
                case OpCode.GlobalSet:
                    globals[ins.A].Bits = s[--sp];
                    break;
                case OpCode.TableGet:
                {
                    var table = instance.Tables[ins.A];
                    var index = (uint)s[sp - 1];
                    if (index >= (uint)table.Length)
                    {
                        Throw(WasmTrapKind.OutOfBoundsTableAccess);
                    }

                    s[sp - 1] = table.Elements[index];
                    break;
                }

                case OpCode.TableSet:
                {
                    var table = instance.Tables[ins.A];
                    var index = (uint)s[sp - 2];
                    if (index >= (uint)table.Length)
                    {
                        Throw(WasmTrapKind.OutOfBoundsTableAccess);
                    }

                    table.Elements[index] = s[sp - 1];
                    sp -= 2;
                    break;
                }

                // Loads: effective address = u32 base + u32 offset, computed in u64 so it cannot wrap.
                case 0x28: // i32.load
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 4 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    s[sp - 1] = BinaryPrimitives.ReadUInt32LittleEndian(mem.AsSpan((int)ea));
                    break;
                }

                case 0x29: // i64.load
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 8 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    s[sp - 1] = BinaryPrimitives.ReadUInt64LittleEndian(mem.AsSpan((int)ea));
                    break;
                }

                case 0x2A: // f32.load
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 4 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    s[sp - 1] = BinaryPrimitives.ReadUInt32LittleEndian(mem.AsSpan((int)ea));
                    break;
                }

                case 0x2B: // f64.load
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 8 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    s[sp - 1] = BinaryPrimitives.ReadUInt64LittleEndian(mem.AsSpan((int)ea));
                    break;
                }

                case 0x2C: // i32.load8_s
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 1 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    s[sp - 1] = (uint)(sbyte)mem[ea];
                    break;
                }

                case 0x2D: // i32.load8_u
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 1 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    s[sp - 1] = mem[ea];
                    break;
                }

                case 0x2E: // i32.load16_s
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 2 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    s[sp - 1] = (uint)BinaryPrimitives.ReadInt16LittleEndian(mem.AsSpan((int)ea));
                    break;
                }

                case 0x2F: // i32.load16_u
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 2 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    s[sp - 1] = BinaryPrimitives.ReadUInt16LittleEndian(mem.AsSpan((int)ea));
                    break;
                }

                case 0x30: // i64.load8_s
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 1 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    s[sp - 1] = (ulong)(long)(sbyte)mem[ea];
                    break;
                }

                case 0x31: // i64.load8_u
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 1 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    s[sp - 1] = mem[ea];
                    break;
                }

                case 0x32: // i64.load16_s
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 2 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    s[sp - 1] = (ulong)(long)BinaryPrimitives.ReadInt16LittleEndian(mem.AsSpan((int)ea));
                    break;
                }

                case 0x33: // i64.load16_u
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 2 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    s[sp - 1] = BinaryPrimitives.ReadUInt16LittleEndian(mem.AsSpan((int)ea));
                    break;
                }

                case 0x34: // i64.load32_s
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 4 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    s[sp - 1] = (ulong)(long)BinaryPrimitives.ReadInt32LittleEndian(mem.AsSpan((int)ea));
                    break;
                }

                case 0x35: // i64.load32_u
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 4 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    s[sp - 1] = BinaryPrimitives.ReadUInt32LittleEndian(mem.AsSpan((int)ea));
                    break;
                }

                case 0x36: // i32.store
                case 0x38: // f32.store
                case 0x3E: // i64.store32
                {
                    var ea = (uint)s[sp - 2] + (ulong)ins.B;
                    if (ea + 4 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    BinaryPrimitives.WriteUInt32LittleEndian(mem.AsSpan((int)ea), (uint)s[sp - 1]);
                    sp -= 2;
                    break;
                }

                case 0x37: // i64.store
                case 0x39: // f64.store
                {
                    var ea = (uint)s[sp - 2] + (ulong)ins.B;
                    if (ea + 8 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    BinaryPrimitives.WriteUInt64LittleEndian(mem.AsSpan((int)ea), s[sp - 1]);
                    sp -= 2;
                    break;
                }

                case 0x3A: // i32.store8
                case 0x3C: // i64.store8
                {
                    var ea = (uint)s[sp - 2] + (ulong)ins.B;
                    if (ea + 1 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    mem[ea] = (byte)s[sp - 1];
                    sp -= 2;
                    break;
                }

                case 0x3B: // i32.store16
                case 0x3D: // i64.store16
                {
                    var ea = (uint)s[sp - 2] + (ulong)ins.B;
                    if (ea + 2 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    BinaryPrimitives.WriteUInt16LittleEndian(mem.AsSpan((int)ea), (ushort)s[sp - 1]);
                    sp -= 2;
                    break;
                }

                case OpCode.MemorySize:
                    s[sp++] = (uint)(memLength / WasmMemory.PageSize);
                    break;
                case OpCode.MemoryGrow:
                    s[sp - 1] = (uint)memory!.Grow((uint)s[sp - 1]);
                    mem = memory.Buffer;
                    memLength = (ulong)memory.ByteLength;
                    break;
                case OpCode.Const:
                    s[sp++] = (ulong)ins.B;
                    break;
                case OpCode.LocalGet2:
                    s[sp] = s[fp + ins.A];
                    s[sp + 1] = s[fp + (int)ins.B];
                    sp += 2;
                    break;
                case OpCode.LocalI32AddConst:
                    s[fp + ins.A] = (uint)((uint)s[fp + ins.A] + (uint)ins.B);
                    break;
                case OpCode.RefFunc:
                    s[sp++] = instance.Functions[ins.A].Handle;
                    break;
                case OpCode.MemoryInit:
                case OpCode.DataDrop:
                case OpCode.MemoryCopy:
                case OpCode.MemoryFill:
                case OpCode.TableInit:
                case OpCode.ElemDrop:
                case OpCode.TableCopy:
                case OpCode.TableGrow:
                case OpCode.TableSize:
                case OpCode.TableFill:
                    sp = ExecuteBulk(instance, ref ins, sp);
                    if (memory is not null)
                    {
                        mem = memory.Buffer;
                        memLength = (ulong)memory.ByteLength;
                    }

                    break;
                case 0x45: // i32.eqz
                {
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a == 0 ? 1UL : 0UL);
                    break;
                }

                case 0x46: // i32.eq
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[sp - 2] = (a == b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x47: // i32.ne
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[sp - 2] = (a != b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x48: // i32.lt_s
                {
                    var b = (int)s[sp - 1];
                    var a = (int)s[sp - 2];
                    s[sp - 2] = (a < b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x49: // i32.lt_u
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[sp - 2] = (a < b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x4A: // i32.gt_s
                {
                    var b = (int)s[sp - 1];
                    var a = (int)s[sp - 2];
                    s[sp - 2] = (a > b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x4B: // i32.gt_u
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[sp - 2] = (a > b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x4C: // i32.le_s
                {
                    var b = (int)s[sp - 1];
                    var a = (int)s[sp - 2];
                    s[sp - 2] = (a <= b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x4D: // i32.le_u
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[sp - 2] = (a <= b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x4E: // i32.ge_s
                {
                    var b = (int)s[sp - 1];
                    var a = (int)s[sp - 2];
                    s[sp - 2] = (a >= b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x4F: // i32.ge_u
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[sp - 2] = (a >= b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x50: // i64.eqz
                {
                    var a = s[sp - 1];
                    s[sp - 1] = (a == 0 ? 1UL : 0UL);
                    break;
                }

                case 0x51: // i64.eq
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[sp - 2] = (a == b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x52: // i64.ne
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[sp - 2] = (a != b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x53: // i64.lt_s
                {
                    var b = (long)s[sp - 1];
                    var a = (long)s[sp - 2];
                    s[sp - 2] = (a < b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x54: // i64.lt_u
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[sp - 2] = (a < b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x55: // i64.gt_s
                {
                    var b = (long)s[sp - 1];
                    var a = (long)s[sp - 2];
                    s[sp - 2] = (a > b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x56: // i64.gt_u
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[sp - 2] = (a > b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x57: // i64.le_s
                {
                    var b = (long)s[sp - 1];
                    var a = (long)s[sp - 2];
                    s[sp - 2] = (a <= b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x58: // i64.le_u
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[sp - 2] = (a <= b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x59: // i64.ge_s
                {
                    var b = (long)s[sp - 1];
                    var a = (long)s[sp - 2];
                    s[sp - 2] = (a >= b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x5A: // i64.ge_u
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[sp - 2] = (a >= b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x5B: // f32.eq
                {
                    var b = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 2]);
                    s[sp - 2] = (a == b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x5C: // f32.ne
                {
                    var b = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 2]);
                    s[sp - 2] = (a != b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x5D: // f32.lt
                {
                    var b = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 2]);
                    s[sp - 2] = (a < b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x5E: // f32.gt
                {
                    var b = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 2]);
                    s[sp - 2] = (a > b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x5F: // f32.le
                {
                    var b = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 2]);
                    s[sp - 2] = (a <= b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x60: // f32.ge
                {
                    var b = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 2]);
                    s[sp - 2] = (a >= b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x61: // f64.eq
                {
                    var b = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 2]);
                    s[sp - 2] = (a == b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x62: // f64.ne
                {
                    var b = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 2]);
                    s[sp - 2] = (a != b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x63: // f64.lt
                {
                    var b = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 2]);
                    s[sp - 2] = (a < b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x64: // f64.gt
                {
                    var b = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 2]);
                    s[sp - 2] = (a > b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x65: // f64.le
                {
                    var b = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 2]);
                    s[sp - 2] = (a <= b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x66: // f64.ge
                {
                    var b = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 2]);
                    s[sp - 2] = (a >= b ? 1UL : 0UL);
                    sp--;
                    break;
                }

                case 0x67: // i32.clz
                {
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(BitOperations.LeadingZeroCount(a));
                    break;
                }

                case 0x68: // i32.ctz
                {
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(BitOperations.TrailingZeroCount(a));
                    break;
                }

                case 0x69: // i32.popcnt
                {
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(BitOperations.PopCount(a));
                    break;
                }

                case 0x6A: // i32.add
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[sp - 2] = (uint)(a + b);
                    sp--;
                    break;
                }

                case 0x6B: // i32.sub
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[sp - 2] = (uint)(a - b);
                    sp--;
                    break;
                }

                case 0x6C: // i32.mul
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[sp - 2] = (uint)(a * b);
                    sp--;
                    break;
                }

                case 0x6D: // i32.div_s
                {
                    var b = (int)s[sp - 1];
                    var a = (int)s[sp - 2];
                    s[sp - 2] = (uint)(NumericOps.DivS(a, b));
                    sp--;
                    break;
                }

                case 0x6E: // i32.div_u
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[sp - 2] = (uint)(NumericOps.DivU(a, b));
                    sp--;
                    break;
                }

                case 0x6F: // i32.rem_s
                {
                    var b = (int)s[sp - 1];
                    var a = (int)s[sp - 2];
                    s[sp - 2] = (uint)(NumericOps.RemS(a, b));
                    sp--;
                    break;
                }

                case 0x70: // i32.rem_u
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[sp - 2] = (uint)(NumericOps.RemU(a, b));
                    sp--;
                    break;
                }

                case 0x71: // i32.and
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[sp - 2] = (uint)(a & b);
                    sp--;
                    break;
                }

                case 0x72: // i32.or
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[sp - 2] = (uint)(a | b);
                    sp--;
                    break;
                }

                case 0x73: // i32.xor
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[sp - 2] = (uint)(a ^ b);
                    sp--;
                    break;
                }

                case 0x74: // i32.shl
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[sp - 2] = (uint)(a << (int)b);
                    sp--;
                    break;
                }

                case 0x75: // i32.shr_s
                {
                    var b = (int)s[sp - 1];
                    var a = (int)s[sp - 2];
                    s[sp - 2] = (uint)(a >> (int)b);
                    sp--;
                    break;
                }

                case 0x76: // i32.shr_u
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[sp - 2] = (uint)(a >> (int)b);
                    sp--;
                    break;
                }

                case 0x77: // i32.rotl
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[sp - 2] = (uint)(BitOperations.RotateLeft(a, (int)b));
                    sp--;
                    break;
                }

                case 0x78: // i32.rotr
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[sp - 2] = (uint)(BitOperations.RotateRight(a, (int)b));
                    sp--;
                    break;
                }

                case 0x79: // i64.clz
                {
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)((long)BitOperations.LeadingZeroCount(a));
                    break;
                }

                case 0x7A: // i64.ctz
                {
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)((long)BitOperations.TrailingZeroCount(a));
                    break;
                }

                case 0x7B: // i64.popcnt
                {
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)((long)BitOperations.PopCount(a));
                    break;
                }

                case 0x7C: // i64.add
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[sp - 2] = (ulong)(a + b);
                    sp--;
                    break;
                }

                case 0x7D: // i64.sub
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[sp - 2] = (ulong)(a - b);
                    sp--;
                    break;
                }

                case 0x7E: // i64.mul
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[sp - 2] = (ulong)(a * b);
                    sp--;
                    break;
                }

                case 0x7F: // i64.div_s
                {
                    var b = (long)s[sp - 1];
                    var a = (long)s[sp - 2];
                    s[sp - 2] = (ulong)(NumericOps.DivS(a, b));
                    sp--;
                    break;
                }

                case 0x80: // i64.div_u
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[sp - 2] = (ulong)(NumericOps.DivU(a, b));
                    sp--;
                    break;
                }

                case 0x81: // i64.rem_s
                {
                    var b = (long)s[sp - 1];
                    var a = (long)s[sp - 2];
                    s[sp - 2] = (ulong)(NumericOps.RemS(a, b));
                    sp--;
                    break;
                }

                case 0x82: // i64.rem_u
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[sp - 2] = (ulong)(NumericOps.RemU(a, b));
                    sp--;
                    break;
                }

                case 0x83: // i64.and
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[sp - 2] = (ulong)(a & b);
                    sp--;
                    break;
                }

                case 0x84: // i64.or
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[sp - 2] = (ulong)(a | b);
                    sp--;
                    break;
                }

                case 0x85: // i64.xor
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[sp - 2] = (ulong)(a ^ b);
                    sp--;
                    break;
                }

                case 0x86: // i64.shl
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[sp - 2] = (ulong)(a << (int)b);
                    sp--;
                    break;
                }

                case 0x87: // i64.shr_s
                {
                    var b = (long)s[sp - 1];
                    var a = (long)s[sp - 2];
                    s[sp - 2] = (ulong)(a >> (int)b);
                    sp--;
                    break;
                }

                case 0x88: // i64.shr_u
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[sp - 2] = (ulong)(a >> (int)b);
                    sp--;
                    break;
                }

                case 0x89: // i64.rotl
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[sp - 2] = (ulong)(BitOperations.RotateLeft(a, (int)b));
                    sp--;
                    break;
                }

                case 0x8A: // i64.rotr
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[sp - 2] = (ulong)(BitOperations.RotateRight(a, (int)b));
                    sp--;
                    break;
                }

                case 0x8B: // f32.abs
                    s[sp - 1] = (uint)s[sp - 1] & 0x7FFF_FFFFU;
                    break;
                case 0x8C: // f32.neg
                    s[sp - 1] = (uint)s[sp - 1] ^ 0x8000_0000U;
                    break;
                case 0x8D: // f32.ceil
                {
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    s[sp - 1] = BitConverter.SingleToUInt32Bits(MathF.Ceiling(a));
                    break;
                }

                case 0x8E: // f32.floor
                {
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    s[sp - 1] = BitConverter.SingleToUInt32Bits(MathF.Floor(a));
                    break;
                }

                case 0x8F: // f32.trunc
                {
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    s[sp - 1] = BitConverter.SingleToUInt32Bits(MathF.Truncate(a));
                    break;
                }

                case 0x90: // f32.nearest
                {
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    s[sp - 1] = BitConverter.SingleToUInt32Bits(MathF.Round(a, MidpointRounding.ToEven));
                    break;
                }

                case 0x91: // f32.sqrt
                {
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    s[sp - 1] = BitConverter.SingleToUInt32Bits(MathF.Sqrt(a));
                    break;
                }

                case 0x92: // f32.add
                {
                    var b = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 2]);
                    s[sp - 2] = BitConverter.SingleToUInt32Bits(a + b);
                    sp--;
                    break;
                }

                case 0x93: // f32.sub
                {
                    var b = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 2]);
                    s[sp - 2] = BitConverter.SingleToUInt32Bits(a - b);
                    sp--;
                    break;
                }

                case 0x94: // f32.mul
                {
                    var b = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 2]);
                    s[sp - 2] = BitConverter.SingleToUInt32Bits(a * b);
                    sp--;
                    break;
                }

                case 0x95: // f32.div
                {
                    var b = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 2]);
                    s[sp - 2] = BitConverter.SingleToUInt32Bits(a / b);
                    sp--;
                    break;
                }

                case 0x96: // f32.min
                {
                    var b = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 2]);
                    s[sp - 2] = BitConverter.SingleToUInt32Bits(NumericOps.Min(a, b));
                    sp--;
                    break;
                }

                case 0x97: // f32.max
                {
                    var b = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 2]);
                    s[sp - 2] = BitConverter.SingleToUInt32Bits(NumericOps.Max(a, b));
                    sp--;
                    break;
                }

                case 0x98: // f32.copysign
                    sp--;
                    s[sp - 1] = ((uint)s[sp - 1] & 0x7FFF_FFFFU) | ((uint)s[sp] & 0x8000_0000U);
                    break;
                case 0x99: // f64.abs
                    s[sp - 1] &= ~0x8000_0000_0000_0000UL;
                    break;
                case 0x9A: // f64.neg
                    s[sp - 1] ^= 0x8000_0000_0000_0000UL;
                    break;
                case 0x9B: // f64.ceil
                {
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    s[sp - 1] = BitConverter.DoubleToUInt64Bits(Math.Ceiling(a));
                    break;
                }

                case 0x9C: // f64.floor
                {
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    s[sp - 1] = BitConverter.DoubleToUInt64Bits(Math.Floor(a));
                    break;
                }

                case 0x9D: // f64.trunc
                {
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    s[sp - 1] = BitConverter.DoubleToUInt64Bits(Math.Truncate(a));
                    break;
                }

                case 0x9E: // f64.nearest
                {
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    s[sp - 1] = BitConverter.DoubleToUInt64Bits(Math.Round(a, MidpointRounding.ToEven));
                    break;
                }

                case 0x9F: // f64.sqrt
                {
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    s[sp - 1] = BitConverter.DoubleToUInt64Bits(Math.Sqrt(a));
                    break;
                }

                case 0xA0: // f64.add
                {
                    var b = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 2]);
                    s[sp - 2] = BitConverter.DoubleToUInt64Bits(a + b);
                    sp--;
                    break;
                }

                case 0xA1: // f64.sub
                {
                    var b = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 2]);
                    s[sp - 2] = BitConverter.DoubleToUInt64Bits(a - b);
                    sp--;
                    break;
                }

                case 0xA2: // f64.mul
                {
                    var b = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 2]);
                    s[sp - 2] = BitConverter.DoubleToUInt64Bits(a * b);
                    sp--;
                    break;
                }

                case 0xA3: // f64.div
                {
                    var b = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 2]);
                    s[sp - 2] = BitConverter.DoubleToUInt64Bits(a / b);
                    sp--;
                    break;
                }

                case 0xA4: // f64.min
                {
                    var b = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 2]);
                    s[sp - 2] = BitConverter.DoubleToUInt64Bits(NumericOps.Min(a, b));
                    sp--;
                    break;
                }

                case 0xA5: // f64.max
                {
                    var b = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 2]);
                    s[sp - 2] = BitConverter.DoubleToUInt64Bits(NumericOps.Max(a, b));
                    sp--;
                    break;
                }

                case 0xA6: // f64.copysign
                    sp--;
                    s[sp - 1] = (s[sp - 1] & 0x7FFF_FFFF_FFFF_FFFFUL) | (s[sp] & 0x8000_0000_0000_0000UL);
                    break;
                case 0xA7: // i32.wrap_i64
                {
                    var a = s[sp - 1];
                    s[sp - 1] = (uint)((uint)a);
                    break;
                }

                case 0xA8: // i32.trunc_f32_s
                {
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    s[sp - 1] = (uint)(NumericOps.TruncI32(a));
                    break;
                }

                case 0xA9: // i32.trunc_f32_u
                {
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    s[sp - 1] = (uint)(NumericOps.TruncU32(a));
                    break;
                }

                case 0xAA: // i32.trunc_f64_s
                {
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    s[sp - 1] = (uint)(NumericOps.TruncI32(a));
                    break;
                }

                case 0xAB: // i32.trunc_f64_u
                {
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    s[sp - 1] = (uint)(NumericOps.TruncU32(a));
                    break;
                }

                case 0xAC: // i64.extend_i32_s
                {
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (ulong)((long)a);
                    break;
                }

                case 0xAD: // i64.extend_i32_u
                {
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (ulong)((ulong)a);
                    break;
                }

                case 0xAE: // i64.trunc_f32_s
                {
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    s[sp - 1] = (ulong)(NumericOps.TruncI64(a));
                    break;
                }

                case 0xAF: // i64.trunc_f32_u
                {
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    s[sp - 1] = (ulong)(NumericOps.TruncU64(a));
                    break;
                }

                case 0xB0: // i64.trunc_f64_s
                {
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    s[sp - 1] = (ulong)(NumericOps.TruncI64(a));
                    break;
                }

                case 0xB1: // i64.trunc_f64_u
                {
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    s[sp - 1] = (ulong)(NumericOps.TruncU64(a));
                    break;
                }

                case 0xB2: // f32.convert_i32_s
                {
                    var a = (int)s[sp - 1];
                    s[sp - 1] = BitConverter.SingleToUInt32Bits((float)a);
                    break;
                }

                case 0xB3: // f32.convert_i32_u
                {
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = BitConverter.SingleToUInt32Bits((float)a);
                    break;
                }

                case 0xB4: // f32.convert_i64_s
                {
                    var a = (long)s[sp - 1];
                    s[sp - 1] = BitConverter.SingleToUInt32Bits(NumericOps.I64ToF32(a));
                    break;
                }

                case 0xB5: // f32.convert_i64_u
                {
                    var a = s[sp - 1];
                    s[sp - 1] = BitConverter.SingleToUInt32Bits(NumericOps.U64ToF32Exact(a));
                    break;
                }

                case 0xB6: // f32.demote_f64
                {
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    s[sp - 1] = BitConverter.SingleToUInt32Bits((float)a);
                    break;
                }

                case 0xB7: // f64.convert_i32_s
                {
                    var a = (int)s[sp - 1];
                    s[sp - 1] = BitConverter.DoubleToUInt64Bits((double)a);
                    break;
                }

                case 0xB8: // f64.convert_i32_u
                {
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = BitConverter.DoubleToUInt64Bits((double)a);
                    break;
                }

                case 0xB9: // f64.convert_i64_s
                {
                    var a = (long)s[sp - 1];
                    s[sp - 1] = BitConverter.DoubleToUInt64Bits((double)a);
                    break;
                }

                case 0xBA: // f64.convert_i64_u
                {
                    var a = s[sp - 1];
                    s[sp - 1] = BitConverter.DoubleToUInt64Bits(NumericOps.U64ToF64(a));
                    break;
                }

                case 0xBB: // f64.promote_f32
                {
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    s[sp - 1] = BitConverter.DoubleToUInt64Bits((double)a);
                    break;
                }

                case 0xBC: // i32.reinterpret_f32: bits are already in the slot
                    break;
                case 0xBD: // i64.reinterpret_f64: bits are already in the slot
                    break;
                case 0xBE: // f32.reinterpret_i32: bits are already in the slot
                    break;
                case 0xBF: // f64.reinterpret_i64: bits are already in the slot
                    break;
                case 0xC0: // i32.extend8_s
                {
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (uint)((sbyte)a);
                    break;
                }

                case 0xC1: // i32.extend16_s
                {
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (uint)((short)a);
                    break;
                }

                case 0xC2: // i64.extend8_s
                {
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (ulong)((long)(sbyte)a);
                    break;
                }

                case 0xC3: // i64.extend16_s
                {
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (ulong)((long)(short)a);
                    break;
                }

                case 0xC4: // i64.extend32_s
                {
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (ulong)((long)(int)a);
                    break;
                }

                case 0xE0: // i32.trunc_sat_f32_s
                {
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    s[sp - 1] = (uint)(NumericOps.TruncI32(a, trap: false));
                    break;
                }

                case 0xE1: // i32.trunc_sat_f32_u
                {
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    s[sp - 1] = (uint)(NumericOps.TruncU32(a, trap: false));
                    break;
                }

                case 0xE2: // i32.trunc_sat_f64_s
                {
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    s[sp - 1] = (uint)(NumericOps.TruncI32(a, trap: false));
                    break;
                }

                case 0xE3: // i32.trunc_sat_f64_u
                {
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    s[sp - 1] = (uint)(NumericOps.TruncU32(a, trap: false));
                    break;
                }

                case 0xE4: // i64.trunc_sat_f32_s
                {
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    s[sp - 1] = (ulong)(NumericOps.TruncI64(a, trap: false));
                    break;
                }

                case 0xE5: // i64.trunc_sat_f32_u
                {
                    var a = BitConverter.UInt32BitsToSingle((uint)s[sp - 1]);
                    s[sp - 1] = (ulong)(NumericOps.TruncU64(a, trap: false));
                    break;
                }

                case 0xE6: // i64.trunc_sat_f64_s
                {
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    s[sp - 1] = (ulong)(NumericOps.TruncI64(a, trap: false));
                    break;
                }

                case 0xE7: // i64.trunc_sat_f64_u
                {
                    var a = BitConverter.UInt64BitsToDouble(s[sp - 1]);
                    s[sp - 1] = (ulong)(NumericOps.TruncU64(a, trap: false));
                    break;
                }

                case 0x146: // i32.eq (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a == b ? 1UL : 0UL);
                    break;
                }

                case 0x147: // i32.ne (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a != b ? 1UL : 0UL);
                    break;
                }

                case 0x148: // i32.lt_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x149: // i32.lt_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x14A: // i32.gt_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x14B: // i32.gt_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x14C: // i32.le_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x14D: // i32.le_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x14E: // i32.ge_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x14F: // i32.ge_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x151: // i64.eq (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (a == b ? 1UL : 0UL);
                    break;
                }

                case 0x152: // i64.ne (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (a != b ? 1UL : 0UL);
                    break;
                }

                case 0x153: // i64.lt_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (long)(ulong)ins.B;
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x154: // i64.lt_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x155: // i64.gt_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (long)(ulong)ins.B;
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x156: // i64.gt_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x157: // i64.le_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (long)(ulong)ins.B;
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x158: // i64.le_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x159: // i64.ge_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (long)(ulong)ins.B;
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x15A: // i64.ge_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x16A: // i32.add (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a + b);
                    break;
                }

                case 0x16B: // i32.sub (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a - b);
                    break;
                }

                case 0x16C: // i32.mul (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a * b);
                    break;
                }

                case 0x16D: // i32.div_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (uint)(NumericOps.DivS(a, b));
                    break;
                }

                case 0x16E: // i32.div_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(NumericOps.DivU(a, b));
                    break;
                }

                case 0x16F: // i32.rem_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (uint)(NumericOps.RemS(a, b));
                    break;
                }

                case 0x170: // i32.rem_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(NumericOps.RemU(a, b));
                    break;
                }

                case 0x171: // i32.and (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a & b);
                    break;
                }

                case 0x172: // i32.or (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a | b);
                    break;
                }

                case 0x173: // i32.xor (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a ^ b);
                    break;
                }

                case 0x174: // i32.shl (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a << (int)b);
                    break;
                }

                case 0x175: // i32.shr_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (uint)(a >> (int)b);
                    break;
                }

                case 0x176: // i32.shr_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a >> (int)b);
                    break;
                }

                case 0x177: // i32.rotl (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(BitOperations.RotateLeft(a, (int)b));
                    break;
                }

                case 0x178: // i32.rotr (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(BitOperations.RotateRight(a, (int)b));
                    break;
                }

                case 0x17C: // i64.add (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a + b);
                    break;
                }

                case 0x17D: // i64.sub (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a - b);
                    break;
                }

                case 0x17E: // i64.mul (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a * b);
                    break;
                }

                case 0x17F: // i64.div_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (long)(ulong)ins.B;
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (ulong)(NumericOps.DivS(a, b));
                    break;
                }

                case 0x180: // i64.div_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(NumericOps.DivU(a, b));
                    break;
                }

                case 0x181: // i64.rem_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (long)(ulong)ins.B;
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (ulong)(NumericOps.RemS(a, b));
                    break;
                }

                case 0x182: // i64.rem_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(NumericOps.RemU(a, b));
                    break;
                }

                case 0x183: // i64.and (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a & b);
                    break;
                }

                case 0x184: // i64.or (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a | b);
                    break;
                }

                case 0x185: // i64.xor (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a ^ b);
                    break;
                }

                case 0x186: // i64.shl (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a << (int)b);
                    break;
                }

                case 0x187: // i64.shr_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (long)(ulong)ins.B;
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (ulong)(a >> (int)b);
                    break;
                }

                case 0x188: // i64.shr_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a >> (int)b);
                    break;
                }

                case 0x189: // i64.rotl (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(BitOperations.RotateLeft(a, (int)b));
                    break;
                }

                case 0x18A: // i64.rotr (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(BitOperations.RotateRight(a, (int)b));
                    break;
                }

                case 0x246: // i32.eq (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a == b ? 1UL : 0UL);
                    break;
                }

                case 0x247: // i32.ne (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a != b ? 1UL : 0UL);
                    break;
                }

                case 0x248: // i32.lt_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (int)s[fp + ins.A];
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x249: // i32.lt_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x24A: // i32.gt_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (int)s[fp + ins.A];
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x24B: // i32.gt_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x24C: // i32.le_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (int)s[fp + ins.A];
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x24D: // i32.le_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x24E: // i32.ge_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (int)s[fp + ins.A];
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x24F: // i32.ge_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x251: // i64.eq (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (a == b ? 1UL : 0UL);
                    break;
                }

                case 0x252: // i64.ne (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (a != b ? 1UL : 0UL);
                    break;
                }

                case 0x253: // i64.lt_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (long)s[fp + ins.A];
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x254: // i64.lt_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x255: // i64.gt_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (long)s[fp + ins.A];
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x256: // i64.gt_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x257: // i64.le_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (long)s[fp + ins.A];
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x258: // i64.le_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x259: // i64.ge_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (long)s[fp + ins.A];
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x25A: // i64.ge_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x26A: // i32.add (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a + b);
                    break;
                }

                case 0x26B: // i32.sub (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a - b);
                    break;
                }

                case 0x26C: // i32.mul (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a * b);
                    break;
                }

                case 0x26D: // i32.div_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (int)s[fp + ins.A];
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (uint)(NumericOps.DivS(a, b));
                    break;
                }

                case 0x26E: // i32.div_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(NumericOps.DivU(a, b));
                    break;
                }

                case 0x26F: // i32.rem_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (int)s[fp + ins.A];
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (uint)(NumericOps.RemS(a, b));
                    break;
                }

                case 0x270: // i32.rem_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(NumericOps.RemU(a, b));
                    break;
                }

                case 0x271: // i32.and (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a & b);
                    break;
                }

                case 0x272: // i32.or (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a | b);
                    break;
                }

                case 0x273: // i32.xor (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a ^ b);
                    break;
                }

                case 0x274: // i32.shl (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a << (int)b);
                    break;
                }

                case 0x275: // i32.shr_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (int)s[fp + ins.A];
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (uint)(a >> (int)b);
                    break;
                }

                case 0x276: // i32.shr_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a >> (int)b);
                    break;
                }

                case 0x277: // i32.rotl (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(BitOperations.RotateLeft(a, (int)b));
                    break;
                }

                case 0x278: // i32.rotr (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(BitOperations.RotateRight(a, (int)b));
                    break;
                }

                case 0x27C: // i64.add (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a + b);
                    break;
                }

                case 0x27D: // i64.sub (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a - b);
                    break;
                }

                case 0x27E: // i64.mul (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a * b);
                    break;
                }

                case 0x27F: // i64.div_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (long)s[fp + ins.A];
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (ulong)(NumericOps.DivS(a, b));
                    break;
                }

                case 0x280: // i64.div_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(NumericOps.DivU(a, b));
                    break;
                }

                case 0x281: // i64.rem_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (long)s[fp + ins.A];
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (ulong)(NumericOps.RemS(a, b));
                    break;
                }

                case 0x282: // i64.rem_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(NumericOps.RemU(a, b));
                    break;
                }

                case 0x283: // i64.and (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a & b);
                    break;
                }

                case 0x284: // i64.or (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a | b);
                    break;
                }

                case 0x285: // i64.xor (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a ^ b);
                    break;
                }

                case 0x286: // i64.shl (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a << (int)b);
                    break;
                }

                case 0x287: // i64.shr_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (long)s[fp + ins.A];
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (ulong)(a >> (int)b);
                    break;
                }

                case 0x288: // i64.shr_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a >> (int)b);
                    break;
                }

                case 0x289: // i64.rotl (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(BitOperations.RotateLeft(a, (int)b));
                    break;
                }

                case 0x28A: // i64.rotr (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(BitOperations.RotateRight(a, (int)b));
                    break;
                }

                case 0x346: // i32.eq (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (a == b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x347: // i32.ne (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (a != b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x348: // i32.lt_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (int)s[fp + (int)ins.B];
                    var a = (int)s[fp + ins.A];
                    s[sp] = (a < b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x349: // i32.lt_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (a < b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x34A: // i32.gt_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (int)s[fp + (int)ins.B];
                    var a = (int)s[fp + ins.A];
                    s[sp] = (a > b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x34B: // i32.gt_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (a > b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x34C: // i32.le_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (int)s[fp + (int)ins.B];
                    var a = (int)s[fp + ins.A];
                    s[sp] = (a <= b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x34D: // i32.le_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (a <= b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x34E: // i32.ge_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (int)s[fp + (int)ins.B];
                    var a = (int)s[fp + ins.A];
                    s[sp] = (a >= b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x34F: // i32.ge_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (a >= b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x351: // i64.eq (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (a == b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x352: // i64.ne (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (a != b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x353: // i64.lt_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (long)s[fp + (int)ins.B];
                    var a = (long)s[fp + ins.A];
                    s[sp] = (a < b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x354: // i64.lt_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (a < b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x355: // i64.gt_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (long)s[fp + (int)ins.B];
                    var a = (long)s[fp + ins.A];
                    s[sp] = (a > b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x356: // i64.gt_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (a > b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x357: // i64.le_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (long)s[fp + (int)ins.B];
                    var a = (long)s[fp + ins.A];
                    s[sp] = (a <= b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x358: // i64.le_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (a <= b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x359: // i64.ge_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (long)s[fp + (int)ins.B];
                    var a = (long)s[fp + ins.A];
                    s[sp] = (a >= b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x35A: // i64.ge_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (a >= b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x36A: // i32.add (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(a + b);
                    sp++;
                    break;
                }

                case 0x36B: // i32.sub (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(a - b);
                    sp++;
                    break;
                }

                case 0x36C: // i32.mul (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(a * b);
                    sp++;
                    break;
                }

                case 0x36D: // i32.div_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (int)s[fp + (int)ins.B];
                    var a = (int)s[fp + ins.A];
                    s[sp] = (uint)(NumericOps.DivS(a, b));
                    sp++;
                    break;
                }

                case 0x36E: // i32.div_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(NumericOps.DivU(a, b));
                    sp++;
                    break;
                }

                case 0x36F: // i32.rem_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (int)s[fp + (int)ins.B];
                    var a = (int)s[fp + ins.A];
                    s[sp] = (uint)(NumericOps.RemS(a, b));
                    sp++;
                    break;
                }

                case 0x370: // i32.rem_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(NumericOps.RemU(a, b));
                    sp++;
                    break;
                }

                case 0x371: // i32.and (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(a & b);
                    sp++;
                    break;
                }

                case 0x372: // i32.or (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(a | b);
                    sp++;
                    break;
                }

                case 0x373: // i32.xor (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(a ^ b);
                    sp++;
                    break;
                }

                case 0x374: // i32.shl (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(a << (int)b);
                    sp++;
                    break;
                }

                case 0x375: // i32.shr_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (int)s[fp + (int)ins.B];
                    var a = (int)s[fp + ins.A];
                    s[sp] = (uint)(a >> (int)b);
                    sp++;
                    break;
                }

                case 0x376: // i32.shr_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(a >> (int)b);
                    sp++;
                    break;
                }

                case 0x377: // i32.rotl (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(BitOperations.RotateLeft(a, (int)b));
                    sp++;
                    break;
                }

                case 0x378: // i32.rotr (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(BitOperations.RotateRight(a, (int)b));
                    sp++;
                    break;
                }

                case 0x37C: // i64.add (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(a + b);
                    sp++;
                    break;
                }

                case 0x37D: // i64.sub (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(a - b);
                    sp++;
                    break;
                }

                case 0x37E: // i64.mul (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(a * b);
                    sp++;
                    break;
                }

                case 0x37F: // i64.div_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (long)s[fp + (int)ins.B];
                    var a = (long)s[fp + ins.A];
                    s[sp] = (ulong)(NumericOps.DivS(a, b));
                    sp++;
                    break;
                }

                case 0x380: // i64.div_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(NumericOps.DivU(a, b));
                    sp++;
                    break;
                }

                case 0x381: // i64.rem_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (long)s[fp + (int)ins.B];
                    var a = (long)s[fp + ins.A];
                    s[sp] = (ulong)(NumericOps.RemS(a, b));
                    sp++;
                    break;
                }

                case 0x382: // i64.rem_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(NumericOps.RemU(a, b));
                    sp++;
                    break;
                }

                case 0x383: // i64.and (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(a & b);
                    sp++;
                    break;
                }

                case 0x384: // i64.or (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(a | b);
                    sp++;
                    break;
                }

                case 0x385: // i64.xor (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(a ^ b);
                    sp++;
                    break;
                }

                case 0x386: // i64.shl (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(a << (int)b);
                    sp++;
                    break;
                }

                case 0x387: // i64.shr_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (long)s[fp + (int)ins.B];
                    var a = (long)s[fp + ins.A];
                    s[sp] = (ulong)(a >> (int)b);
                    sp++;
                    break;
                }

                case 0x388: // i64.shr_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(a >> (int)b);
                    sp++;
                    break;
                }

                case 0x389: // i64.rotl (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(BitOperations.RotateLeft(a, (int)b));
                    sp++;
                    break;
                }

                case 0x38A: // i64.rotr (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(BitOperations.RotateRight(a, (int)b));
                    sp++;
                    break;
                }
                default:
                    throw new InvalidOperationException($"internal error: opcode {ins.Op} at {pc - 1} has no handler");
            }
        }
    }
#pragma warning restore CA1506
#pragma warning restore CA1505
#pragma warning restore CA1502

    /// <summary>Moves the top (packed &gt;&gt; 32) values down to frame height (int)packed; returns the new stack pointer.</summary>
    private static int MoveResults(ulong[] s, int sp, int fp, long packed)
    {
        var arity = (int)(packed >> 32);
        var destination = fp + (int)packed;
        var source = sp - arity;
        if (source != destination)
        {
            for (var i = 0; i < arity; i++)
            {
                s[destination + i] = s[source + i];
            }
        }

        return destination + arity;
    }
}
