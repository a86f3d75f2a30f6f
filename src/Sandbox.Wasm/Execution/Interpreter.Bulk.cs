namespace Sandbox.Wasm.Execution;

/// <remarks>
/// Bulk memory and table operations (spec 2.0). They are rare and heavy compared with the dispatch, so
/// they live out of line. Bounds are checked in u64 before any write: an out-of-bounds operation traps
/// without touching memory (spec 2.0 semantics, not the older partial-write behaviour).
/// Each operation that passes its bounds check also charges fuel in proportion to its length (one unit per
/// 64 bytes or elements), so out-of-bounds still traps as such:
/// otherwise a loop of 256 MiB memory.fill calls would cost a few units per iteration and fuel would stop
/// bounding the work done.
/// </remarks>
internal sealed partial class Interpreter
{
    private int ExecuteBulk(WasmInstance instance, ref Instruction ins, int sp)
    {
        var s = _stack;
        switch (ins.Op)
        {
            case OpCode.MemoryInit:
            {
                var n = (uint)s[sp - 1];
                var src = (uint)s[sp - 2];
                var dst = (uint)s[sp - 3];
                var data = instance.DataSegments[ins.A];
                var memory = instance.Memory0!;
                if ((ulong)src + n > (ulong)data.Length || (ulong)dst + n > (ulong)memory.ByteLength)
                {
                    ThrowOutOfBounds();
                }

                ChargeBulk(n);

                data.AsSpan((int)src, (int)n).CopyTo(memory.Buffer.AsSpan((int)dst));
                return sp - 3;
            }

            case OpCode.DataDrop:
                instance.DataSegments[ins.A] = [];
                return sp;
            case OpCode.MemoryCopy:
            {
                var n = (uint)s[sp - 1];
                var src = (uint)s[sp - 2];
                var dst = (uint)s[sp - 3];
                var memory = instance.Memory0!;
                if ((ulong)src + n > (ulong)memory.ByteLength || (ulong)dst + n > (ulong)memory.ByteLength)
                {
                    ThrowOutOfBounds();
                }

                ChargeBulk(n);

                // Array.Copy has memmove semantics for overlapping ranges of the same array.
                Array.Copy(memory.Buffer, (int)src, memory.Buffer, (int)dst, (int)n);
                return sp - 3;
            }

            case OpCode.MemoryFill:
            {
                var n = (uint)s[sp - 1];
                var value = (byte)s[sp - 2];
                var dst = (uint)s[sp - 3];
                var memory = instance.Memory0!;
                if ((ulong)dst + n > (ulong)memory.ByteLength)
                {
                    ThrowOutOfBounds();
                }

                ChargeBulk(n);

                memory.Buffer.AsSpan((int)dst, (int)n).Fill(value);
                return sp - 3;
            }

            case OpCode.TableInit:
            {
                var n = (uint)s[sp - 1];
                var src = (uint)s[sp - 2];
                var dst = (uint)s[sp - 3];
                var segment = instance.ElementSegments[ins.A];
                var table = instance.Tables[(int)ins.B];
                if ((ulong)src + n > (ulong)segment.Length || (ulong)dst + n > (ulong)table.Length)
                {
                    Throw(WasmTrapKind.OutOfBoundsTableAccess);
                }

                ChargeBulk(n);

                Array.Copy(segment, (int)src, table.Elements, (int)dst, (int)n);
                return sp - 3;
            }

            case OpCode.ElemDrop:
                instance.ElementSegments[ins.A] = [];
                return sp;
            case OpCode.TableCopy:
            {
                var n = (uint)s[sp - 1];
                var src = (uint)s[sp - 2];
                var dst = (uint)s[sp - 3];
                var to = instance.Tables[ins.A];
                var from = instance.Tables[(int)ins.B];
                if ((ulong)src + n > (ulong)from.Length || (ulong)dst + n > (ulong)to.Length)
                {
                    Throw(WasmTrapKind.OutOfBoundsTableAccess);
                }

                ChargeBulk(n);

                Array.Copy(from.Elements, (int)src, to.Elements, (int)dst, (int)n);
                return sp - 3;
            }

            case OpCode.TableGrow:
            {
                var table = instance.Tables[ins.A];
                var delta = (uint)s[sp - 1];
                var old = table.Grow(delta, s[sp - 2]);
                if (old >= 0)
                {
                    ChargeBulk(delta);
                }

                s[sp - 2] = (uint)old;
                return sp - 1;
            }

            case OpCode.TableSize:
                s[sp] = (uint)instance.Tables[ins.A].Length;
                return sp + 1;
            case OpCode.TableFill:
            {
                var n = (uint)s[sp - 1];
                var value = s[sp - 2];
                var start = (uint)s[sp - 3];
                var table = instance.Tables[ins.A];
                if ((ulong)start + n > (ulong)table.Length)
                {
                    Throw(WasmTrapKind.OutOfBoundsTableAccess);
                }

                ChargeBulk(n);

                table.Elements.AsSpan((int)start, (int)n).Fill(value);
                return sp - 3;
            }

            default:
                throw new InvalidOperationException($"internal error: {ins.Op} is not a bulk operation");
        }
    }

    private void ChargeBulk(uint length)
    {
        Fuel -= length >> 6;
        if (Fuel < 0)
        {
            Throw(WasmTrapKind.OutOfFuel);
        }
    }
}
