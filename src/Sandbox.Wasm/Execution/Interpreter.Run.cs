using System.Numerics;

namespace Sandbox.Wasm.Execution;

/// <remarks>
/// The dispatch loop. Deliberately one method with one dense switch: the JIT turns it into a jump table,
/// and the hot state (stack array, stack pointer, program counter, memory buffer and its length) stays in
/// locals. The memory buffer is re-read after anything that can grow memory (memory.grow and calls).
/// Integer arithmetic wraps because this project compiles unchecked (see the .csproj).
/// The numeric arms were generated from a table of opcode → (operand types, result type, expression),
/// including the fused integer variants (0x1xx: second operand immediate, 0x2xx: second operand a local,
/// 0x3xx: both operands locals) that the translator's peephole pass emits.
/// No AggressiveOptimization on purpose: it disables dynamic PGO, and measured here the tiered, PGO-guided
/// code (reached through OSR within the first milliseconds of a long call) is up to twice as fast.
/// </remarks>
internal sealed partial class Interpreter
{
#pragma warning disable CA1502 // Cyclomatic complexity: one switch over every opcode is the point of the design.
#pragma warning disable CA1505 // Maintainability index: same reason.
#pragma warning disable CA1506 // Class coupling: same reason.
    private void Run(WasmFunction function, int fp)
    {
        var compiled = function.Code!;
        EnterFrame(fp, compiled.MaxHeight);
        var entryDepth = _depth;
        var s = _stack;
        var sp = fp + compiled.LocalCount;
        Array.Clear(s, fp + compiled.ParameterCount, compiled.LocalCount - compiled.ParameterCount);
        var code = compiled.Code;
        var pc = 0;
        var instance = function.Instance!;
        var memory = instance.Memory0;
        var mem = memory?.Buffer ?? [];
        var memLength = (ulong)(memory?.ByteLength ?? 0);
        var globals = instance.Globals;

        while (true)
        {
            ref var ins = ref code[pc++];
            WasmFunction callee;
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
                    if (_depth < entryDepth)
                    {
                        return;
                    }

                    // Resume the caller saved when this frame was entered (see Invoke below).
                    sp = fp + n;
                    ref var caller = ref _callFrames[_depth];
                    function = caller.Function;
                    pc = caller.Pc;
                    fp = caller.Fp;
                    compiled = function.Code!;
                    code = compiled.Code;
                    if (function.Instance != instance)
                    {
                        instance = function.Instance!;
                        globals = instance.Globals;
                        memory = instance.Memory0;
                    }

                    if (memory is not null)
                    {
                        mem = memory.Buffer;
                        memLength = (ulong)memory.ByteLength;
                    }

                    break;
                }

                case OpCode.Call:
                    callee = instance.Functions[ins.A];
                    goto Invoke;
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

                    callee = _engine.FunctionFromHandle(handle);
                    if (callee.TypeId != instance.TypeIds[ins.A])
                    {
                        Throw(WasmTrapKind.IndirectCallTypeMismatch);
                    }

                    goto Invoke;
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

                // Loads and stores: effective address = u32 base + u32 offset, computed in u64 so it cannot wrap.
                case 0x028: // i32.load
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 4 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp - 1] = ((uint)mem[i] | ((uint)mem[i + 1] << 8) | ((uint)mem[i + 2] << 16) | ((uint)mem[i + 3] << 24));
                    break;
                }

                case 0x029: // i64.load
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 8 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp - 1] = (((uint)mem[i] | ((uint)mem[i + 1] << 8) | ((uint)mem[i + 2] << 16) | ((uint)mem[i + 3] << 24)) | ((ulong)((uint)mem[i + 4] | ((uint)mem[i + 4 + 1] << 8) | ((uint)mem[i + 4 + 2] << 16) | ((uint)mem[i + 4 + 3] << 24)) << 32));
                    break;
                }

                case 0x02A: // f32.load
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 4 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp - 1] = ((uint)mem[i] | ((uint)mem[i + 1] << 8) | ((uint)mem[i + 2] << 16) | ((uint)mem[i + 3] << 24));
                    break;
                }

                case 0x02B: // f64.load
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 8 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp - 1] = (((uint)mem[i] | ((uint)mem[i + 1] << 8) | ((uint)mem[i + 2] << 16) | ((uint)mem[i + 3] << 24)) | ((ulong)((uint)mem[i + 4] | ((uint)mem[i + 4 + 1] << 8) | ((uint)mem[i + 4 + 2] << 16) | ((uint)mem[i + 4 + 3] << 24)) << 32));
                    break;
                }

                case 0x02C: // i32.load8_s
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 1 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp - 1] = (uint)(sbyte)mem[i];
                    break;
                }

                case 0x02D: // i32.load8_u
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 1 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp - 1] = mem[i];
                    break;
                }

                case 0x02E: // i32.load16_s
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 2 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp - 1] = (uint)(short)((uint)mem[i] | ((uint)mem[i + 1] << 8));
                    break;
                }

                case 0x02F: // i32.load16_u
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 2 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp - 1] = ((uint)mem[i] | ((uint)mem[i + 1] << 8));
                    break;
                }

                case 0x030: // i64.load8_s
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 1 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp - 1] = (ulong)(long)(sbyte)mem[i];
                    break;
                }

                case 0x031: // i64.load8_u
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 1 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp - 1] = mem[i];
                    break;
                }

                case 0x032: // i64.load16_s
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 2 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp - 1] = (ulong)(long)(short)((uint)mem[i] | ((uint)mem[i + 1] << 8));
                    break;
                }

                case 0x033: // i64.load16_u
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 2 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp - 1] = ((uint)mem[i] | ((uint)mem[i + 1] << 8));
                    break;
                }

                case 0x034: // i64.load32_s
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 4 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp - 1] = (ulong)(long)(int)((uint)mem[i] | ((uint)mem[i + 1] << 8) | ((uint)mem[i + 2] << 16) | ((uint)mem[i + 3] << 24));
                    break;
                }

                case 0x035: // i64.load32_u
                {
                    var ea = (uint)s[sp - 1] + (ulong)ins.B;
                    if (ea + 4 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp - 1] = ((uint)mem[i] | ((uint)mem[i + 1] << 8) | ((uint)mem[i + 2] << 16) | ((uint)mem[i + 3] << 24));
                    break;
                }

                case 0x36:
                case 0x38:
                case 0x3E: // i32.store / f32.store / i64.store32
                {
                    var ea = (uint)s[sp - 2] + (ulong)ins.B;
                    if (ea + 4 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    var v = s[sp - 1];
                    mem[i] = (byte)v;
                    mem[i + 1] = (byte)(v >> 8);
                    mem[i + 2] = (byte)(v >> 16);
                    mem[i + 3] = (byte)(v >> 24);
                    sp -= 2;
                    break;
                }

                case 0x37:
                case 0x39: // i64.store / f64.store
                {
                    var ea = (uint)s[sp - 2] + (ulong)ins.B;
                    if (ea + 8 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    var v = s[sp - 1];
                    mem[i] = (byte)v;
                    mem[i + 1] = (byte)(v >> 8);
                    mem[i + 2] = (byte)(v >> 16);
                    mem[i + 3] = (byte)(v >> 24);
                    mem[i + 4] = (byte)(v >> 32);
                    mem[i + 5] = (byte)(v >> 40);
                    mem[i + 6] = (byte)(v >> 48);
                    mem[i + 7] = (byte)(v >> 56);
                    sp -= 2;
                    break;
                }

                case 0x3A:
                case 0x3C: // i32.store8 / i64.store8
                {
                    var ea = (uint)s[sp - 2] + (ulong)ins.B;
                    if (ea + 1 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    var v = s[sp - 1];
                    mem[i] = (byte)v;
                    sp -= 2;
                    break;
                }

                case 0x3B:
                case 0x3D: // i32.store16 / i64.store16
                {
                    var ea = (uint)s[sp - 2] + (ulong)ins.B;
                    if (ea + 2 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    var v = s[sp - 1];
                    mem[i] = (byte)v;
                    mem[i + 1] = (byte)(v >> 8);
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
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    if (b == -1 && a == int.MinValue)
                    {
                        Throw(WasmTrapKind.IntegerOverflow);
                    }

                    s[sp - 2] = (uint)(a / b);
                    sp--;
                    break;
                }

                case 0x6E: // i32.div_u
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp - 2] = (uint)(a / b);
                    sp--;
                    break;
                }

                case 0x6F: // i32.rem_s
                {
                    var b = (int)s[sp - 1];
                    var a = (int)s[sp - 2];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp - 2] = (uint)((b == -1 ? 0 : a % b));
                    sp--;
                    break;
                }

                case 0x70: // i32.rem_u
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp - 2] = (uint)(a % b);
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
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    if (b == -1 && a == long.MinValue)
                    {
                        Throw(WasmTrapKind.IntegerOverflow);
                    }

                    s[sp - 2] = (ulong)(a / b);
                    sp--;
                    break;
                }

                case 0x80: // i64.div_u
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp - 2] = (ulong)(a / b);
                    sp--;
                    break;
                }

                case 0x81: // i64.rem_s
                {
                    var b = (long)s[sp - 1];
                    var a = (long)s[sp - 2];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp - 2] = (ulong)((b == -1 ? 0 : a % b));
                    sp--;
                    break;
                }

                case 0x82: // i64.rem_u
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp - 2] = (ulong)(a % b);
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

                case 0x100: // i32.eq (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a == b ? 1UL : 0UL);
                    break;
                }

                case 0x101: // i32.ne (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a != b ? 1UL : 0UL);
                    break;
                }

                case 0x102: // i32.lt_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x103: // i32.lt_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x104: // i32.gt_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x105: // i32.gt_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x106: // i32.le_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x107: // i32.le_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x108: // i32.ge_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x109: // i32.ge_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x10B: // i64.eq (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (a == b ? 1UL : 0UL);
                    break;
                }

                case 0x10C: // i64.ne (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (a != b ? 1UL : 0UL);
                    break;
                }

                case 0x10D: // i64.lt_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (long)(ulong)ins.B;
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x10E: // i64.lt_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x10F: // i64.gt_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (long)(ulong)ins.B;
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x110: // i64.gt_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x111: // i64.le_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (long)(ulong)ins.B;
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x112: // i64.le_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x113: // i64.ge_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (long)(ulong)ins.B;
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x114: // i64.ge_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x124: // i32.add (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a + b);
                    break;
                }

                case 0x125: // i32.sub (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a - b);
                    break;
                }

                case 0x126: // i32.mul (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a * b);
                    break;
                }

                case 0x127: // i32.div_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    if (b == -1 && a == int.MinValue)
                    {
                        Throw(WasmTrapKind.IntegerOverflow);
                    }

                    s[sp - 1] = (uint)(a / b);
                    break;
                }

                case 0x128: // i32.div_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp - 1] = (uint)(a / b);
                    break;
                }

                case 0x129: // i32.rem_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp - 1] = (uint)((b == -1 ? 0 : a % b));
                    break;
                }

                case 0x12A: // i32.rem_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp - 1] = (uint)(a % b);
                    break;
                }

                case 0x12B: // i32.and (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a & b);
                    break;
                }

                case 0x12C: // i32.or (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a | b);
                    break;
                }

                case 0x12D: // i32.xor (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a ^ b);
                    break;
                }

                case 0x12E: // i32.shl (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a << (int)b);
                    break;
                }

                case 0x12F: // i32.shr_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (uint)(a >> (int)b);
                    break;
                }

                case 0x130: // i32.shr_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a >> (int)b);
                    break;
                }

                case 0x131: // i32.rotl (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(BitOperations.RotateLeft(a, (int)b));
                    break;
                }

                case 0x132: // i32.rotr (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(BitOperations.RotateRight(a, (int)b));
                    break;
                }

                case 0x136: // i64.add (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a + b);
                    break;
                }

                case 0x137: // i64.sub (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a - b);
                    break;
                }

                case 0x138: // i64.mul (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a * b);
                    break;
                }

                case 0x139: // i64.div_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (long)(ulong)ins.B;
                    var a = (long)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    if (b == -1 && a == long.MinValue)
                    {
                        Throw(WasmTrapKind.IntegerOverflow);
                    }

                    s[sp - 1] = (ulong)(a / b);
                    break;
                }

                case 0x13A: // i64.div_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp - 1] = (ulong)(a / b);
                    break;
                }

                case 0x13B: // i64.rem_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (long)(ulong)ins.B;
                    var a = (long)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp - 1] = (ulong)((b == -1 ? 0 : a % b));
                    break;
                }

                case 0x13C: // i64.rem_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp - 1] = (ulong)(a % b);
                    break;
                }

                case 0x13D: // i64.and (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a & b);
                    break;
                }

                case 0x13E: // i64.or (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a | b);
                    break;
                }

                case 0x13F: // i64.xor (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a ^ b);
                    break;
                }

                case 0x140: // i64.shl (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a << (int)b);
                    break;
                }

                case 0x141: // i64.shr_s (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (long)(ulong)ins.B;
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (ulong)(a >> (int)b);
                    break;
                }

                case 0x142: // i64.shr_u (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a >> (int)b);
                    break;
                }

                case 0x143: // i64.rotl (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(BitOperations.RotateLeft(a, (int)b));
                    break;
                }

                case 0x144: // i64.rotr (s[sp - 1] op (ulong)ins.B)
                {
                    var b = (ulong)ins.B;
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(BitOperations.RotateRight(a, (int)b));
                    break;
                }

                case 0x163: // i32.eq (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a == b ? 1UL : 0UL);
                    break;
                }

                case 0x164: // i32.ne (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a != b ? 1UL : 0UL);
                    break;
                }

                case 0x165: // i32.lt_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (int)s[fp + ins.A];
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x166: // i32.lt_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x167: // i32.gt_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (int)s[fp + ins.A];
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x168: // i32.gt_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x169: // i32.le_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (int)s[fp + ins.A];
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x16A: // i32.le_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x16B: // i32.ge_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (int)s[fp + ins.A];
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x16C: // i32.ge_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x16E: // i64.eq (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (a == b ? 1UL : 0UL);
                    break;
                }

                case 0x16F: // i64.ne (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (a != b ? 1UL : 0UL);
                    break;
                }

                case 0x170: // i64.lt_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (long)s[fp + ins.A];
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x171: // i64.lt_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x172: // i64.gt_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (long)s[fp + ins.A];
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x173: // i64.gt_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x174: // i64.le_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (long)s[fp + ins.A];
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x175: // i64.le_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x176: // i64.ge_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (long)s[fp + ins.A];
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x177: // i64.ge_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x187: // i32.add (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a + b);
                    break;
                }

                case 0x188: // i32.sub (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a - b);
                    break;
                }

                case 0x189: // i32.mul (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a * b);
                    break;
                }

                case 0x18A: // i32.div_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (int)s[fp + ins.A];
                    var a = (int)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    if (b == -1 && a == int.MinValue)
                    {
                        Throw(WasmTrapKind.IntegerOverflow);
                    }

                    s[sp - 1] = (uint)(a / b);
                    break;
                }

                case 0x18B: // i32.div_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp - 1] = (uint)(a / b);
                    break;
                }

                case 0x18C: // i32.rem_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (int)s[fp + ins.A];
                    var a = (int)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp - 1] = (uint)((b == -1 ? 0 : a % b));
                    break;
                }

                case 0x18D: // i32.rem_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp - 1] = (uint)(a % b);
                    break;
                }

                case 0x18E: // i32.and (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a & b);
                    break;
                }

                case 0x18F: // i32.or (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a | b);
                    break;
                }

                case 0x190: // i32.xor (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a ^ b);
                    break;
                }

                case 0x191: // i32.shl (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a << (int)b);
                    break;
                }

                case 0x192: // i32.shr_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (int)s[fp + ins.A];
                    var a = (int)s[sp - 1];
                    s[sp - 1] = (uint)(a >> (int)b);
                    break;
                }

                case 0x193: // i32.shr_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(a >> (int)b);
                    break;
                }

                case 0x194: // i32.rotl (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(BitOperations.RotateLeft(a, (int)b));
                    break;
                }

                case 0x195: // i32.rotr (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (uint)s[fp + ins.A];
                    var a = (uint)s[sp - 1];
                    s[sp - 1] = (uint)(BitOperations.RotateRight(a, (int)b));
                    break;
                }

                case 0x199: // i64.add (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a + b);
                    break;
                }

                case 0x19A: // i64.sub (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a - b);
                    break;
                }

                case 0x19B: // i64.mul (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a * b);
                    break;
                }

                case 0x19C: // i64.div_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (long)s[fp + ins.A];
                    var a = (long)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    if (b == -1 && a == long.MinValue)
                    {
                        Throw(WasmTrapKind.IntegerOverflow);
                    }

                    s[sp - 1] = (ulong)(a / b);
                    break;
                }

                case 0x19D: // i64.div_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp - 1] = (ulong)(a / b);
                    break;
                }

                case 0x19E: // i64.rem_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (long)s[fp + ins.A];
                    var a = (long)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp - 1] = (ulong)((b == -1 ? 0 : a % b));
                    break;
                }

                case 0x19F: // i64.rem_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp - 1] = (ulong)(a % b);
                    break;
                }

                case 0x1A0: // i64.and (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a & b);
                    break;
                }

                case 0x1A1: // i64.or (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a | b);
                    break;
                }

                case 0x1A2: // i64.xor (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a ^ b);
                    break;
                }

                case 0x1A3: // i64.shl (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a << (int)b);
                    break;
                }

                case 0x1A4: // i64.shr_s (s[sp - 1] op s[fp + ins.A])
                {
                    var b = (long)s[fp + ins.A];
                    var a = (long)s[sp - 1];
                    s[sp - 1] = (ulong)(a >> (int)b);
                    break;
                }

                case 0x1A5: // i64.shr_u (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(a >> (int)b);
                    break;
                }

                case 0x1A6: // i64.rotl (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(BitOperations.RotateLeft(a, (int)b));
                    break;
                }

                case 0x1A7: // i64.rotr (s[sp - 1] op s[fp + ins.A])
                {
                    var b = s[fp + ins.A];
                    var a = s[sp - 1];
                    s[sp - 1] = (ulong)(BitOperations.RotateRight(a, (int)b));
                    break;
                }

                case 0x1A8: // i32.eq (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (a == b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1A9: // i32.ne (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (a != b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1AA: // i32.lt_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (int)s[fp + (int)ins.B];
                    var a = (int)s[fp + ins.A];
                    s[sp] = (a < b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1AB: // i32.lt_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (a < b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1AC: // i32.gt_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (int)s[fp + (int)ins.B];
                    var a = (int)s[fp + ins.A];
                    s[sp] = (a > b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1AD: // i32.gt_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (a > b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1AE: // i32.le_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (int)s[fp + (int)ins.B];
                    var a = (int)s[fp + ins.A];
                    s[sp] = (a <= b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1AF: // i32.le_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (a <= b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1B0: // i32.ge_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (int)s[fp + (int)ins.B];
                    var a = (int)s[fp + ins.A];
                    s[sp] = (a >= b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1B1: // i32.ge_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (a >= b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1B3: // i64.eq (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (a == b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1B4: // i64.ne (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (a != b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1B5: // i64.lt_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (long)s[fp + (int)ins.B];
                    var a = (long)s[fp + ins.A];
                    s[sp] = (a < b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1B6: // i64.lt_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (a < b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1B7: // i64.gt_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (long)s[fp + (int)ins.B];
                    var a = (long)s[fp + ins.A];
                    s[sp] = (a > b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1B8: // i64.gt_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (a > b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1B9: // i64.le_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (long)s[fp + (int)ins.B];
                    var a = (long)s[fp + ins.A];
                    s[sp] = (a <= b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1BA: // i64.le_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (a <= b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1BB: // i64.ge_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (long)s[fp + (int)ins.B];
                    var a = (long)s[fp + ins.A];
                    s[sp] = (a >= b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1BC: // i64.ge_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (a >= b ? 1UL : 0UL);
                    sp++;
                    break;
                }

                case 0x1CC: // i32.add (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(a + b);
                    sp++;
                    break;
                }

                case 0x1CD: // i32.sub (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(a - b);
                    sp++;
                    break;
                }

                case 0x1CE: // i32.mul (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(a * b);
                    sp++;
                    break;
                }

                case 0x1CF: // i32.div_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (int)s[fp + (int)ins.B];
                    var a = (int)s[fp + ins.A];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    if (b == -1 && a == int.MinValue)
                    {
                        Throw(WasmTrapKind.IntegerOverflow);
                    }

                    s[sp] = (uint)(a / b);
                    sp++;
                    break;
                }

                case 0x1D0: // i32.div_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp] = (uint)(a / b);
                    sp++;
                    break;
                }

                case 0x1D1: // i32.rem_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (int)s[fp + (int)ins.B];
                    var a = (int)s[fp + ins.A];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp] = (uint)((b == -1 ? 0 : a % b));
                    sp++;
                    break;
                }

                case 0x1D2: // i32.rem_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp] = (uint)(a % b);
                    sp++;
                    break;
                }

                case 0x1D3: // i32.and (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(a & b);
                    sp++;
                    break;
                }

                case 0x1D4: // i32.or (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(a | b);
                    sp++;
                    break;
                }

                case 0x1D5: // i32.xor (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(a ^ b);
                    sp++;
                    break;
                }

                case 0x1D6: // i32.shl (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(a << (int)b);
                    sp++;
                    break;
                }

                case 0x1D7: // i32.shr_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (int)s[fp + (int)ins.B];
                    var a = (int)s[fp + ins.A];
                    s[sp] = (uint)(a >> (int)b);
                    sp++;
                    break;
                }

                case 0x1D8: // i32.shr_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(a >> (int)b);
                    sp++;
                    break;
                }

                case 0x1D9: // i32.rotl (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(BitOperations.RotateLeft(a, (int)b));
                    sp++;
                    break;
                }

                case 0x1DA: // i32.rotr (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (uint)s[fp + (int)ins.B];
                    var a = (uint)s[fp + ins.A];
                    s[sp] = (uint)(BitOperations.RotateRight(a, (int)b));
                    sp++;
                    break;
                }

                case 0x1DE: // i64.add (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(a + b);
                    sp++;
                    break;
                }

                case 0x1DF: // i64.sub (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(a - b);
                    sp++;
                    break;
                }

                case 0x1E0: // i64.mul (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(a * b);
                    sp++;
                    break;
                }

                case 0x1E1: // i64.div_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (long)s[fp + (int)ins.B];
                    var a = (long)s[fp + ins.A];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    if (b == -1 && a == long.MinValue)
                    {
                        Throw(WasmTrapKind.IntegerOverflow);
                    }

                    s[sp] = (ulong)(a / b);
                    sp++;
                    break;
                }

                case 0x1E2: // i64.div_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp] = (ulong)(a / b);
                    sp++;
                    break;
                }

                case 0x1E3: // i64.rem_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (long)s[fp + (int)ins.B];
                    var a = (long)s[fp + ins.A];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp] = (ulong)((b == -1 ? 0 : a % b));
                    sp++;
                    break;
                }

                case 0x1E4: // i64.rem_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[sp] = (ulong)(a % b);
                    sp++;
                    break;
                }

                case 0x1E5: // i64.and (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(a & b);
                    sp++;
                    break;
                }

                case 0x1E6: // i64.or (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(a | b);
                    sp++;
                    break;
                }

                case 0x1E7: // i64.xor (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(a ^ b);
                    sp++;
                    break;
                }

                case 0x1E8: // i64.shl (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(a << (int)b);
                    sp++;
                    break;
                }

                case 0x1E9: // i64.shr_s (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = (long)s[fp + (int)ins.B];
                    var a = (long)s[fp + ins.A];
                    s[sp] = (ulong)(a >> (int)b);
                    sp++;
                    break;
                }

                case 0x1EA: // i64.shr_u (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(a >> (int)b);
                    sp++;
                    break;
                }

                case 0x1EB: // i64.rotl (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(BitOperations.RotateLeft(a, (int)b));
                    sp++;
                    break;
                }

                case 0x1EC: // i64.rotr (s[fp + ins.A] op s[fp + (int)ins.B])
                {
                    var b = s[fp + (int)ins.B];
                    var a = s[fp + ins.A];
                    s[sp] = (ulong)(BitOperations.RotateRight(a, (int)b));
                    sp++;
                    break;
                }

                case 0x1ED: // i32.eq (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[fp + ins.A] = (a == b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x1EE: // i32.ne (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[fp + ins.A] = (a != b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x1EF: // i32.lt_s (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (int)s[sp - 1];
                    var a = (int)s[sp - 2];
                    s[fp + ins.A] = (a < b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x1F0: // i32.lt_u (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[fp + ins.A] = (a < b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x1F1: // i32.gt_s (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (int)s[sp - 1];
                    var a = (int)s[sp - 2];
                    s[fp + ins.A] = (a > b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x1F2: // i32.gt_u (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[fp + ins.A] = (a > b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x1F3: // i32.le_s (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (int)s[sp - 1];
                    var a = (int)s[sp - 2];
                    s[fp + ins.A] = (a <= b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x1F4: // i32.le_u (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[fp + ins.A] = (a <= b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x1F5: // i32.ge_s (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (int)s[sp - 1];
                    var a = (int)s[sp - 2];
                    s[fp + ins.A] = (a >= b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x1F6: // i32.ge_u (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[fp + ins.A] = (a >= b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x1F8: // i64.eq (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[fp + ins.A] = (a == b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x1F9: // i64.ne (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[fp + ins.A] = (a != b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x1FA: // i64.lt_s (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (long)s[sp - 1];
                    var a = (long)s[sp - 2];
                    s[fp + ins.A] = (a < b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x1FB: // i64.lt_u (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[fp + ins.A] = (a < b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x1FC: // i64.gt_s (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (long)s[sp - 1];
                    var a = (long)s[sp - 2];
                    s[fp + ins.A] = (a > b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x1FD: // i64.gt_u (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[fp + ins.A] = (a > b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x1FE: // i64.le_s (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (long)s[sp - 1];
                    var a = (long)s[sp - 2];
                    s[fp + ins.A] = (a <= b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x1FF: // i64.le_u (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[fp + ins.A] = (a <= b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x200: // i64.ge_s (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (long)s[sp - 1];
                    var a = (long)s[sp - 2];
                    s[fp + ins.A] = (a >= b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x201: // i64.ge_u (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[fp + ins.A] = (a >= b ? 1UL : 0UL);
                    sp -= 2;
                    break;
                }

                case 0x211: // i32.add (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[fp + ins.A] = (uint)(a + b);
                    sp -= 2;
                    break;
                }

                case 0x212: // i32.sub (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[fp + ins.A] = (uint)(a - b);
                    sp -= 2;
                    break;
                }

                case 0x213: // i32.mul (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[fp + ins.A] = (uint)(a * b);
                    sp -= 2;
                    break;
                }

                case 0x214: // i32.div_s (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (int)s[sp - 1];
                    var a = (int)s[sp - 2];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    if (b == -1 && a == int.MinValue)
                    {
                        Throw(WasmTrapKind.IntegerOverflow);
                    }

                    s[fp + ins.A] = (uint)(a / b);
                    sp -= 2;
                    break;
                }

                case 0x215: // i32.div_u (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[fp + ins.A] = (uint)(a / b);
                    sp -= 2;
                    break;
                }

                case 0x216: // i32.rem_s (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (int)s[sp - 1];
                    var a = (int)s[sp - 2];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[fp + ins.A] = (uint)((b == -1 ? 0 : a % b));
                    sp -= 2;
                    break;
                }

                case 0x217: // i32.rem_u (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[fp + ins.A] = (uint)(a % b);
                    sp -= 2;
                    break;
                }

                case 0x218: // i32.and (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[fp + ins.A] = (uint)(a & b);
                    sp -= 2;
                    break;
                }

                case 0x219: // i32.or (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[fp + ins.A] = (uint)(a | b);
                    sp -= 2;
                    break;
                }

                case 0x21A: // i32.xor (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[fp + ins.A] = (uint)(a ^ b);
                    sp -= 2;
                    break;
                }

                case 0x21B: // i32.shl (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[fp + ins.A] = (uint)(a << (int)b);
                    sp -= 2;
                    break;
                }

                case 0x21C: // i32.shr_s (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (int)s[sp - 1];
                    var a = (int)s[sp - 2];
                    s[fp + ins.A] = (uint)(a >> (int)b);
                    sp -= 2;
                    break;
                }

                case 0x21D: // i32.shr_u (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[fp + ins.A] = (uint)(a >> (int)b);
                    sp -= 2;
                    break;
                }

                case 0x21E: // i32.rotl (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[fp + ins.A] = (uint)(BitOperations.RotateLeft(a, (int)b));
                    sp -= 2;
                    break;
                }

                case 0x21F: // i32.rotr (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (uint)s[sp - 1];
                    var a = (uint)s[sp - 2];
                    s[fp + ins.A] = (uint)(BitOperations.RotateRight(a, (int)b));
                    sp -= 2;
                    break;
                }

                case 0x223: // i64.add (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[fp + ins.A] = (ulong)(a + b);
                    sp -= 2;
                    break;
                }

                case 0x224: // i64.sub (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[fp + ins.A] = (ulong)(a - b);
                    sp -= 2;
                    break;
                }

                case 0x225: // i64.mul (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[fp + ins.A] = (ulong)(a * b);
                    sp -= 2;
                    break;
                }

                case 0x226: // i64.div_s (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (long)s[sp - 1];
                    var a = (long)s[sp - 2];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    if (b == -1 && a == long.MinValue)
                    {
                        Throw(WasmTrapKind.IntegerOverflow);
                    }

                    s[fp + ins.A] = (ulong)(a / b);
                    sp -= 2;
                    break;
                }

                case 0x227: // i64.div_u (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[fp + ins.A] = (ulong)(a / b);
                    sp -= 2;
                    break;
                }

                case 0x228: // i64.rem_s (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (long)s[sp - 1];
                    var a = (long)s[sp - 2];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[fp + ins.A] = (ulong)((b == -1 ? 0 : a % b));
                    sp -= 2;
                    break;
                }

                case 0x229: // i64.rem_u (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[fp + ins.A] = (ulong)(a % b);
                    sp -= 2;
                    break;
                }

                case 0x22A: // i64.and (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[fp + ins.A] = (ulong)(a & b);
                    sp -= 2;
                    break;
                }

                case 0x22B: // i64.or (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[fp + ins.A] = (ulong)(a | b);
                    sp -= 2;
                    break;
                }

                case 0x22C: // i64.xor (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[fp + ins.A] = (ulong)(a ^ b);
                    sp -= 2;
                    break;
                }

                case 0x22D: // i64.shl (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[fp + ins.A] = (ulong)(a << (int)b);
                    sp -= 2;
                    break;
                }

                case 0x22E: // i64.shr_s (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = (long)s[sp - 1];
                    var a = (long)s[sp - 2];
                    s[fp + ins.A] = (ulong)(a >> (int)b);
                    sp -= 2;
                    break;
                }

                case 0x22F: // i64.shr_u (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[fp + ins.A] = (ulong)(a >> (int)b);
                    sp -= 2;
                    break;
                }

                case 0x230: // i64.rotl (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[fp + ins.A] = (ulong)(BitOperations.RotateLeft(a, (int)b));
                    sp -= 2;
                    break;
                }

                case 0x231: // i64.rotr (s[sp - 2] op s[sp - 1]) -> s[fp + ins.A]
                {
                    var b = s[sp - 1];
                    var a = s[sp - 2];
                    s[fp + ins.A] = (ulong)(BitOperations.RotateRight(a, (int)b));
                    sp -= 2;
                    break;
                }

                case 0x232: // i32.eq (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a == b ? 1UL : 0UL);
                    break;
                }

                case 0x233: // i32.ne (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a != b ? 1UL : 0UL);
                    break;
                }

                case 0x234: // i32.lt_s (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (int)(ulong)(ins.B >> 32);
                    var a = (int)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x235: // i32.lt_u (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x236: // i32.gt_s (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (int)(ulong)(ins.B >> 32);
                    var a = (int)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x237: // i32.gt_u (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x238: // i32.le_s (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (int)(ulong)(ins.B >> 32);
                    var a = (int)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x239: // i32.le_u (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x23A: // i32.ge_s (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (int)(ulong)(ins.B >> 32);
                    var a = (int)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x23B: // i32.ge_u (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x256: // i32.add (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(a + b);
                    break;
                }

                case 0x257: // i32.sub (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(a - b);
                    break;
                }

                case 0x258: // i32.mul (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(a * b);
                    break;
                }

                case 0x259: // i32.div_s (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (int)(ulong)(ins.B >> 32);
                    var a = (int)s[fp + (int)ins.B];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    if (b == -1 && a == int.MinValue)
                    {
                        Throw(WasmTrapKind.IntegerOverflow);
                    }

                    s[fp + ins.A] = (uint)(a / b);
                    break;
                }

                case 0x25A: // i32.div_u (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[fp + ins.A] = (uint)(a / b);
                    break;
                }

                case 0x25B: // i32.rem_s (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (int)(ulong)(ins.B >> 32);
                    var a = (int)s[fp + (int)ins.B];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[fp + ins.A] = (uint)((b == -1 ? 0 : a % b));
                    break;
                }

                case 0x25C: // i32.rem_u (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[fp + ins.A] = (uint)(a % b);
                    break;
                }

                case 0x25D: // i32.and (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(a & b);
                    break;
                }

                case 0x25E: // i32.or (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(a | b);
                    break;
                }

                case 0x25F: // i32.xor (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(a ^ b);
                    break;
                }

                case 0x260: // i32.shl (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(a << (int)b);
                    break;
                }

                case 0x261: // i32.shr_s (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (int)(ulong)(ins.B >> 32);
                    var a = (int)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(a >> (int)b);
                    break;
                }

                case 0x262: // i32.shr_u (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(a >> (int)b);
                    break;
                }

                case 0x263: // i32.rotl (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(BitOperations.RotateLeft(a, (int)b));
                    break;
                }

                case 0x264: // i32.rotr (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> s[fp + ins.A]
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(BitOperations.RotateRight(a, (int)b));
                    break;
                }

                case 0x28D: // i32.eq (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a == b ? 1UL : 0UL);
                    break;
                }

                case 0x28E: // i32.ne (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a != b ? 1UL : 0UL);
                    break;
                }

                case 0x28F: // i32.lt_s (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (int)s[fp + (int)(ins.B >> 32)];
                    var a = (int)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x290: // i32.lt_u (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a < b ? 1UL : 0UL);
                    break;
                }

                case 0x291: // i32.gt_s (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (int)s[fp + (int)(ins.B >> 32)];
                    var a = (int)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x292: // i32.gt_u (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a > b ? 1UL : 0UL);
                    break;
                }

                case 0x293: // i32.le_s (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (int)s[fp + (int)(ins.B >> 32)];
                    var a = (int)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x294: // i32.le_u (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a <= b ? 1UL : 0UL);
                    break;
                }

                case 0x295: // i32.ge_s (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (int)s[fp + (int)(ins.B >> 32)];
                    var a = (int)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x296: // i32.ge_u (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (a >= b ? 1UL : 0UL);
                    break;
                }

                case 0x2B1: // i32.add (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(a + b);
                    break;
                }

                case 0x2B2: // i32.sub (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(a - b);
                    break;
                }

                case 0x2B3: // i32.mul (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(a * b);
                    break;
                }

                case 0x2B4: // i32.div_s (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (int)s[fp + (int)(ins.B >> 32)];
                    var a = (int)s[fp + (int)ins.B];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    if (b == -1 && a == int.MinValue)
                    {
                        Throw(WasmTrapKind.IntegerOverflow);
                    }

                    s[fp + ins.A] = (uint)(a / b);
                    break;
                }

                case 0x2B5: // i32.div_u (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[fp + ins.A] = (uint)(a / b);
                    break;
                }

                case 0x2B6: // i32.rem_s (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (int)s[fp + (int)(ins.B >> 32)];
                    var a = (int)s[fp + (int)ins.B];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[fp + ins.A] = (uint)((b == -1 ? 0 : a % b));
                    break;
                }

                case 0x2B7: // i32.rem_u (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    s[fp + ins.A] = (uint)(a % b);
                    break;
                }

                case 0x2B8: // i32.and (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(a & b);
                    break;
                }

                case 0x2B9: // i32.or (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(a | b);
                    break;
                }

                case 0x2BA: // i32.xor (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(a ^ b);
                    break;
                }

                case 0x2BB: // i32.shl (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(a << (int)b);
                    break;
                }

                case 0x2BC: // i32.shr_s (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (int)s[fp + (int)(ins.B >> 32)];
                    var a = (int)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(a >> (int)b);
                    break;
                }

                case 0x2BD: // i32.shr_u (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(a >> (int)b);
                    break;
                }

                case 0x2BE: // i32.rotl (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(BitOperations.RotateLeft(a, (int)b));
                    break;
                }

                case 0x2BF: // i32.rotr (s[fp + (int)ins.B] op s[fp + (int)(ins.B >> 32)]) -> s[fp + ins.A]
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    s[fp + ins.A] = (uint)(BitOperations.RotateRight(a, (int)b));
                    break;
                }

                case 0x265: // br_if (i32.eq s[sp] s[sp + 1])
                {
                    sp -= 2;
                    var b = (uint)s[sp + 1];
                    var a = (uint)s[sp];
                    if (a == b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x266: // br_if (i32.ne s[sp] s[sp + 1])
                {
                    sp -= 2;
                    var b = (uint)s[sp + 1];
                    var a = (uint)s[sp];
                    if (a != b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x267: // br_if (i32.lt_s s[sp] s[sp + 1])
                {
                    sp -= 2;
                    var b = (int)s[sp + 1];
                    var a = (int)s[sp];
                    if (a < b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x268: // br_if (i32.lt_u s[sp] s[sp + 1])
                {
                    sp -= 2;
                    var b = (uint)s[sp + 1];
                    var a = (uint)s[sp];
                    if (a < b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x269: // br_if (i32.gt_s s[sp] s[sp + 1])
                {
                    sp -= 2;
                    var b = (int)s[sp + 1];
                    var a = (int)s[sp];
                    if (a > b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x26A: // br_if (i32.gt_u s[sp] s[sp + 1])
                {
                    sp -= 2;
                    var b = (uint)s[sp + 1];
                    var a = (uint)s[sp];
                    if (a > b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x26B: // br_if (i32.le_s s[sp] s[sp + 1])
                {
                    sp -= 2;
                    var b = (int)s[sp + 1];
                    var a = (int)s[sp];
                    if (a <= b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x26C: // br_if (i32.le_u s[sp] s[sp + 1])
                {
                    sp -= 2;
                    var b = (uint)s[sp + 1];
                    var a = (uint)s[sp];
                    if (a <= b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x26D: // br_if (i32.ge_s s[sp] s[sp + 1])
                {
                    sp -= 2;
                    var b = (int)s[sp + 1];
                    var a = (int)s[sp];
                    if (a >= b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x26E: // br_if (i32.ge_u s[sp] s[sp + 1])
                {
                    sp -= 2;
                    var b = (uint)s[sp + 1];
                    var a = (uint)s[sp];
                    if (a >= b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x26F: // br_if (i32.eq s[fp + (int)ins.B] s[fp + (int)(ins.B >> 32)])
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    if (a == b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x270: // br_if (i32.ne s[fp + (int)ins.B] s[fp + (int)(ins.B >> 32)])
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    if (a != b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x271: // br_if (i32.lt_s s[fp + (int)ins.B] s[fp + (int)(ins.B >> 32)])
                {
                    var b = (int)s[fp + (int)(ins.B >> 32)];
                    var a = (int)s[fp + (int)ins.B];
                    if (a < b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x272: // br_if (i32.lt_u s[fp + (int)ins.B] s[fp + (int)(ins.B >> 32)])
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    if (a < b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x273: // br_if (i32.gt_s s[fp + (int)ins.B] s[fp + (int)(ins.B >> 32)])
                {
                    var b = (int)s[fp + (int)(ins.B >> 32)];
                    var a = (int)s[fp + (int)ins.B];
                    if (a > b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x274: // br_if (i32.gt_u s[fp + (int)ins.B] s[fp + (int)(ins.B >> 32)])
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    if (a > b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x275: // br_if (i32.le_s s[fp + (int)ins.B] s[fp + (int)(ins.B >> 32)])
                {
                    var b = (int)s[fp + (int)(ins.B >> 32)];
                    var a = (int)s[fp + (int)ins.B];
                    if (a <= b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x276: // br_if (i32.le_u s[fp + (int)ins.B] s[fp + (int)(ins.B >> 32)])
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    if (a <= b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x277: // br_if (i32.ge_s s[fp + (int)ins.B] s[fp + (int)(ins.B >> 32)])
                {
                    var b = (int)s[fp + (int)(ins.B >> 32)];
                    var a = (int)s[fp + (int)ins.B];
                    if (a >= b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x278: // br_if (i32.ge_u s[fp + (int)ins.B] s[fp + (int)(ins.B >> 32)])
                {
                    var b = (uint)s[fp + (int)(ins.B >> 32)];
                    var a = (uint)s[fp + (int)ins.B];
                    if (a >= b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x279: // br_if (i32.eq s[fp + (int)ins.B] (ulong)(ins.B >> 32))
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    if (a == b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x27A: // br_if (i32.ne s[fp + (int)ins.B] (ulong)(ins.B >> 32))
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    if (a != b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x27B: // br_if (i32.lt_s s[fp + (int)ins.B] (ulong)(ins.B >> 32))
                {
                    var b = (int)(ulong)(ins.B >> 32);
                    var a = (int)s[fp + (int)ins.B];
                    if (a < b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x27C: // br_if (i32.lt_u s[fp + (int)ins.B] (ulong)(ins.B >> 32))
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    if (a < b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x27D: // br_if (i32.gt_s s[fp + (int)ins.B] (ulong)(ins.B >> 32))
                {
                    var b = (int)(ulong)(ins.B >> 32);
                    var a = (int)s[fp + (int)ins.B];
                    if (a > b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x27E: // br_if (i32.gt_u s[fp + (int)ins.B] (ulong)(ins.B >> 32))
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    if (a > b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x27F: // br_if (i32.le_s s[fp + (int)ins.B] (ulong)(ins.B >> 32))
                {
                    var b = (int)(ulong)(ins.B >> 32);
                    var a = (int)s[fp + (int)ins.B];
                    if (a <= b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x280: // br_if (i32.le_u s[fp + (int)ins.B] (ulong)(ins.B >> 32))
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    if (a <= b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x281: // br_if (i32.ge_s s[fp + (int)ins.B] (ulong)(ins.B >> 32))
                {
                    var b = (int)(ulong)(ins.B >> 32);
                    var a = (int)s[fp + (int)ins.B];
                    if (a >= b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x282: // br_if (i32.ge_u s[fp + (int)ins.B] (ulong)(ins.B >> 32))
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    if (a >= b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x283: // br_if (i32.eq s[sp] (ulong)ins.B)
                {
                    sp--;
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp];
                    if (a == b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x284: // br_if (i32.ne s[sp] (ulong)ins.B)
                {
                    sp--;
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp];
                    if (a != b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x285: // br_if (i32.lt_s s[sp] (ulong)ins.B)
                {
                    sp--;
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp];
                    if (a < b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x286: // br_if (i32.lt_u s[sp] (ulong)ins.B)
                {
                    sp--;
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp];
                    if (a < b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x287: // br_if (i32.gt_s s[sp] (ulong)ins.B)
                {
                    sp--;
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp];
                    if (a > b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x288: // br_if (i32.gt_u s[sp] (ulong)ins.B)
                {
                    sp--;
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp];
                    if (a > b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x289: // br_if (i32.le_s s[sp] (ulong)ins.B)
                {
                    sp--;
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp];
                    if (a <= b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x28A: // br_if (i32.le_u s[sp] (ulong)ins.B)
                {
                    sp--;
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp];
                    if (a <= b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x28B: // br_if (i32.ge_s s[sp] (ulong)ins.B)
                {
                    sp--;
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp];
                    if (a >= b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x28C: // br_if (i32.ge_u s[sp] (ulong)ins.B)
                {
                    sp--;
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp];
                    if (a >= b)
                    {
                        pc = ins.A;
                    }

                    break;
                }

                case 0x145: // i32.load (address in local A)
                {
                    var ea = (uint)s[fp + ins.A] + (ulong)ins.B;
                    if (ea + 4 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp++] = ((uint)mem[i] | ((uint)mem[i + 1] << 8) | ((uint)mem[i + 2] << 16) | ((uint)mem[i + 3] << 24));
                    break;
                }

                case 0x146: // i64.load (address in local A)
                {
                    var ea = (uint)s[fp + ins.A] + (ulong)ins.B;
                    if (ea + 8 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp++] = (((uint)mem[i] | ((uint)mem[i + 1] << 8) | ((uint)mem[i + 2] << 16) | ((uint)mem[i + 3] << 24)) | ((ulong)((uint)mem[i + 4] | ((uint)mem[i + 4 + 1] << 8) | ((uint)mem[i + 4 + 2] << 16) | ((uint)mem[i + 4 + 3] << 24)) << 32));
                    break;
                }

                case 0x147: // f32.load (address in local A)
                {
                    var ea = (uint)s[fp + ins.A] + (ulong)ins.B;
                    if (ea + 4 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp++] = ((uint)mem[i] | ((uint)mem[i + 1] << 8) | ((uint)mem[i + 2] << 16) | ((uint)mem[i + 3] << 24));
                    break;
                }

                case 0x148: // f64.load (address in local A)
                {
                    var ea = (uint)s[fp + ins.A] + (ulong)ins.B;
                    if (ea + 8 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp++] = (((uint)mem[i] | ((uint)mem[i + 1] << 8) | ((uint)mem[i + 2] << 16) | ((uint)mem[i + 3] << 24)) | ((ulong)((uint)mem[i + 4] | ((uint)mem[i + 4 + 1] << 8) | ((uint)mem[i + 4 + 2] << 16) | ((uint)mem[i + 4 + 3] << 24)) << 32));
                    break;
                }

                case 0x149: // i32.load8_s (address in local A)
                {
                    var ea = (uint)s[fp + ins.A] + (ulong)ins.B;
                    if (ea + 1 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp++] = (uint)(sbyte)mem[i];
                    break;
                }

                case 0x14A: // i32.load8_u (address in local A)
                {
                    var ea = (uint)s[fp + ins.A] + (ulong)ins.B;
                    if (ea + 1 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp++] = mem[i];
                    break;
                }

                case 0x14B: // i32.load16_s (address in local A)
                {
                    var ea = (uint)s[fp + ins.A] + (ulong)ins.B;
                    if (ea + 2 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp++] = (uint)(short)((uint)mem[i] | ((uint)mem[i + 1] << 8));
                    break;
                }

                case 0x14C: // i32.load16_u (address in local A)
                {
                    var ea = (uint)s[fp + ins.A] + (ulong)ins.B;
                    if (ea + 2 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp++] = ((uint)mem[i] | ((uint)mem[i + 1] << 8));
                    break;
                }

                case 0x14D: // i64.load8_s (address in local A)
                {
                    var ea = (uint)s[fp + ins.A] + (ulong)ins.B;
                    if (ea + 1 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp++] = (ulong)(long)(sbyte)mem[i];
                    break;
                }

                case 0x14E: // i64.load8_u (address in local A)
                {
                    var ea = (uint)s[fp + ins.A] + (ulong)ins.B;
                    if (ea + 1 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp++] = mem[i];
                    break;
                }

                case 0x14F: // i64.load16_s (address in local A)
                {
                    var ea = (uint)s[fp + ins.A] + (ulong)ins.B;
                    if (ea + 2 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp++] = (ulong)(long)(short)((uint)mem[i] | ((uint)mem[i + 1] << 8));
                    break;
                }

                case 0x150: // i64.load16_u (address in local A)
                {
                    var ea = (uint)s[fp + ins.A] + (ulong)ins.B;
                    if (ea + 2 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp++] = ((uint)mem[i] | ((uint)mem[i + 1] << 8));
                    break;
                }

                case 0x151: // i64.load32_s (address in local A)
                {
                    var ea = (uint)s[fp + ins.A] + (ulong)ins.B;
                    if (ea + 4 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp++] = (ulong)(long)(int)((uint)mem[i] | ((uint)mem[i + 1] << 8) | ((uint)mem[i + 2] << 16) | ((uint)mem[i + 3] << 24));
                    break;
                }

                case 0x152: // i64.load32_u (address in local A)
                {
                    var ea = (uint)s[fp + ins.A] + (ulong)ins.B;
                    if (ea + 4 > memLength)
                    {
                        ThrowOutOfBounds();
                    }

                    var i = (int)ea;
                    s[sp++] = ((uint)mem[i] | ((uint)mem[i + 1] << 8) | ((uint)mem[i + 2] << 16) | ((uint)mem[i + 3] << 24));
                    break;
                }

                case 0x2C0: // i32.eq (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (uint)s[sp];
                    var a = (uint)s[sp - 1];
                    var r = (a == b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2C1: // i32.ne (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (uint)s[sp];
                    var a = (uint)s[sp - 1];
                    var r = (a != b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2C2: // i32.lt_s (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (int)s[sp];
                    var a = (int)s[sp - 1];
                    var r = (a < b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2C3: // i32.lt_u (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (uint)s[sp];
                    var a = (uint)s[sp - 1];
                    var r = (a < b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2C4: // i32.gt_s (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (int)s[sp];
                    var a = (int)s[sp - 1];
                    var r = (a > b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2C5: // i32.gt_u (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (uint)s[sp];
                    var a = (uint)s[sp - 1];
                    var r = (a > b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2C6: // i32.le_s (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (int)s[sp];
                    var a = (int)s[sp - 1];
                    var r = (a <= b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2C7: // i32.le_u (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (uint)s[sp];
                    var a = (uint)s[sp - 1];
                    var r = (a <= b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2C8: // i32.ge_s (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (int)s[sp];
                    var a = (int)s[sp - 1];
                    var r = (a >= b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2C9: // i32.ge_u (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (uint)s[sp];
                    var a = (uint)s[sp - 1];
                    var r = (a >= b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2E4: // i32.add (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (uint)s[sp];
                    var a = (uint)s[sp - 1];
                    var r = (uint)(a + b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2E5: // i32.sub (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (uint)s[sp];
                    var a = (uint)s[sp - 1];
                    var r = (uint)(a - b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2E6: // i32.mul (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (uint)s[sp];
                    var a = (uint)s[sp - 1];
                    var r = (uint)(a * b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2E7: // i32.div_s (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (int)s[sp];
                    var a = (int)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    if (b == -1 && a == int.MinValue)
                    {
                        Throw(WasmTrapKind.IntegerOverflow);
                    }

                    var r = (uint)(a / b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2E8: // i32.div_u (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (uint)s[sp];
                    var a = (uint)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    var r = (uint)(a / b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2E9: // i32.rem_s (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (int)s[sp];
                    var a = (int)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    var r = (uint)((b == -1 ? 0 : a % b));
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2EA: // i32.rem_u (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (uint)s[sp];
                    var a = (uint)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    var r = (uint)(a % b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2EB: // i32.and (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (uint)s[sp];
                    var a = (uint)s[sp - 1];
                    var r = (uint)(a & b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2EC: // i32.or (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (uint)s[sp];
                    var a = (uint)s[sp - 1];
                    var r = (uint)(a | b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2ED: // i32.xor (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (uint)s[sp];
                    var a = (uint)s[sp - 1];
                    var r = (uint)(a ^ b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2EE: // i32.shl (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (uint)s[sp];
                    var a = (uint)s[sp - 1];
                    var r = (uint)(a << (int)b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2EF: // i32.shr_s (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (int)s[sp];
                    var a = (int)s[sp - 1];
                    var r = (uint)(a >> (int)b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2F0: // i32.shr_u (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (uint)s[sp];
                    var a = (uint)s[sp - 1];
                    var r = (uint)(a >> (int)b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2F1: // i32.rotl (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (uint)s[sp];
                    var a = (uint)s[sp - 1];
                    var r = (uint)(BitOperations.RotateLeft(a, (int)b));
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2F2: // i32.rotr (s[sp - 1] op s[sp]) -> local A, kept on the stack
                {
                    sp--;
                    var b = (uint)s[sp];
                    var a = (uint)s[sp - 1];
                    var r = (uint)(BitOperations.RotateRight(a, (int)b));
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2F3: // i32.eq (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    var r = (a == b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2F4: // i32.ne (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    var r = (a != b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2F5: // i32.lt_s (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    var r = (a < b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2F6: // i32.lt_u (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    var r = (a < b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2F7: // i32.gt_s (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    var r = (a > b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2F8: // i32.gt_u (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    var r = (a > b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2F9: // i32.le_s (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    var r = (a <= b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2FA: // i32.le_u (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    var r = (a <= b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2FB: // i32.ge_s (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    var r = (a >= b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x2FC: // i32.ge_u (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    var r = (a >= b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x317: // i32.add (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    var r = (uint)(a + b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x318: // i32.sub (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    var r = (uint)(a - b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x319: // i32.mul (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    var r = (uint)(a * b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x31A: // i32.div_s (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    if (b == -1 && a == int.MinValue)
                    {
                        Throw(WasmTrapKind.IntegerOverflow);
                    }

                    var r = (uint)(a / b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x31B: // i32.div_u (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    var r = (uint)(a / b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x31C: // i32.rem_s (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    var r = (uint)((b == -1 ? 0 : a % b));
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x31D: // i32.rem_u (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    var r = (uint)(a % b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x31E: // i32.and (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    var r = (uint)(a & b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x31F: // i32.or (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    var r = (uint)(a | b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x320: // i32.xor (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    var r = (uint)(a ^ b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x321: // i32.shl (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    var r = (uint)(a << (int)b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x322: // i32.shr_s (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (int)(ulong)ins.B;
                    var a = (int)s[sp - 1];
                    var r = (uint)(a >> (int)b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x323: // i32.shr_u (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    var r = (uint)(a >> (int)b);
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x324: // i32.rotl (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    var r = (uint)(BitOperations.RotateLeft(a, (int)b));
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x325: // i32.rotr (s[sp - 1] op (ulong)ins.B) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)ins.B;
                    var a = (uint)s[sp - 1];
                    var r = (uint)(BitOperations.RotateRight(a, (int)b));
                    s[fp + ins.A] = r;
                    s[sp - 1] = r;
                    break;
                }

                case 0x326: // i32.eq (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    var r = (a == b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x327: // i32.ne (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    var r = (a != b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x328: // i32.lt_s (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (int)(ulong)(ins.B >> 32);
                    var a = (int)s[fp + (int)ins.B];
                    var r = (a < b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x329: // i32.lt_u (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    var r = (a < b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x32A: // i32.gt_s (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (int)(ulong)(ins.B >> 32);
                    var a = (int)s[fp + (int)ins.B];
                    var r = (a > b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x32B: // i32.gt_u (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    var r = (a > b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x32C: // i32.le_s (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (int)(ulong)(ins.B >> 32);
                    var a = (int)s[fp + (int)ins.B];
                    var r = (a <= b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x32D: // i32.le_u (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    var r = (a <= b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x32E: // i32.ge_s (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (int)(ulong)(ins.B >> 32);
                    var a = (int)s[fp + (int)ins.B];
                    var r = (a >= b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x32F: // i32.ge_u (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    var r = (a >= b ? 1UL : 0UL);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x34A: // i32.add (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    var r = (uint)(a + b);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x34B: // i32.sub (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    var r = (uint)(a - b);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x34C: // i32.mul (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    var r = (uint)(a * b);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x34D: // i32.div_s (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (int)(ulong)(ins.B >> 32);
                    var a = (int)s[fp + (int)ins.B];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    if (b == -1 && a == int.MinValue)
                    {
                        Throw(WasmTrapKind.IntegerOverflow);
                    }

                    var r = (uint)(a / b);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x34E: // i32.div_u (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    var r = (uint)(a / b);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x34F: // i32.rem_s (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (int)(ulong)(ins.B >> 32);
                    var a = (int)s[fp + (int)ins.B];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    var r = (uint)((b == -1 ? 0 : a % b));
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x350: // i32.rem_u (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    if (b == 0)
                    {
                        Throw(WasmTrapKind.IntegerDivideByZero);
                    }

                    var r = (uint)(a % b);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x351: // i32.and (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    var r = (uint)(a & b);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x352: // i32.or (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    var r = (uint)(a | b);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x353: // i32.xor (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    var r = (uint)(a ^ b);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x354: // i32.shl (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    var r = (uint)(a << (int)b);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x355: // i32.shr_s (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (int)(ulong)(ins.B >> 32);
                    var a = (int)s[fp + (int)ins.B];
                    var r = (uint)(a >> (int)b);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x356: // i32.shr_u (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    var r = (uint)(a >> (int)b);
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x357: // i32.rotl (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    var r = (uint)(BitOperations.RotateLeft(a, (int)b));
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }

                case 0x358: // i32.rotr (s[fp + (int)ins.B] op (ulong)(ins.B >> 32)) -> local A, kept on the stack
                {
                    var b = (uint)(ulong)(ins.B >> 32);
                    var a = (uint)s[fp + (int)ins.B];
                    var r = (uint)(BitOperations.RotateRight(a, (int)b));
                    s[fp + ins.A] = r;
                    s[sp++] = r;
                    break;
                }
                default:
                    throw new InvalidOperationException($"internal error: opcode {ins.Op} at {pc - 1} has no handler");
            }

            continue;

        // Guest-to-guest calls do not recurse on the host stack: the caller's position is saved in
        // _callFrames[depth] and the loop continues in the callee, so host stack use is constant in
        // guest call depth and a call costs no C# prologue. Host functions are called directly.
        Invoke:
            var calleeFp = sp - callee.ParameterCount;
            if (callee.Code is null)
            {
                CallHost(callee, calleeFp, instance);
                s = _stack;
                sp = calleeFp + callee.ResultCount;
                if (memory is not null)
                {
                    mem = memory.Buffer;
                    memLength = (ulong)memory.ByteLength;
                }

                continue;
            }

            if (_depth >= _callFrames.Length)
            {
                GrowCallFrames();
            }

            ref var saved = ref _callFrames[_depth];
            saved.Function = function;
            saved.Pc = pc;
            saved.Fp = fp;
            compiled = callee.Code;

            // EnterFrame, written out: the JIT does not inline into a method this large.
            if (++_depth > _maxDepth)
            {
                Throw(WasmTrapKind.CallStackExhausted);
            }

            if (calleeFp + compiled.MaxHeight > s.Length)
            {
                EnsureStack(calleeFp + compiled.MaxHeight);
                s = _stack;
            }

            if (Volatile.Read(ref _interruptRequested))
            {
                Throw(WasmTrapKind.Interrupted);
            }

            function = callee;
            fp = calleeFp;
            pc = 0;
            code = compiled.Code;
            for (var i = fp + compiled.ParameterCount; i < fp + compiled.LocalCount; i++)
            {
                s[i] = 0;
            }

            sp = fp + compiled.LocalCount;
            if (callee.Instance != instance)
            {
                instance = callee.Instance!;
                globals = instance.Globals;
                memory = instance.Memory0;
                mem = memory?.Buffer ?? [];
                memLength = (ulong)(memory?.ByteLength ?? 0);
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
