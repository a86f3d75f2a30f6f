namespace Sandbox.Wasm.Execution;

/// <remarks>
/// Bulk memory and table operations (spec 2.0). They are rare and heavy compared with the dispatch, so
/// they live out of line. Bounds are checked in u64 before any write: an out-of-bounds operation traps
/// without touching memory (spec 2.0 semantics, not the older partial-write behaviour).
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

                Array.Copy(from.Elements, (int)src, to.Elements, (int)dst, (int)n);
                return sp - 3;
            }

            case OpCode.TableGrow:
            {
                var table = instance.Tables[ins.A];
                s[sp - 2] = (uint)table.Grow((uint)s[sp - 1], s[sp - 2]);
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

                table.Elements.AsSpan((int)start, (int)n).Fill(value);
                return sp - 3;
            }

            default:
                throw new InvalidOperationException($"internal error: {ins.Op} is not a bulk operation");
        }
    }
}
