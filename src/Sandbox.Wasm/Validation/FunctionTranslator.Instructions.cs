using Sandbox.Wasm.Decoding;
using Sandbox.Wasm.Execution;

namespace Sandbox.Wasm.Validation;

internal sealed partial class FunctionTranslator
{
    private const WasmValueType I32 = WasmValueType.I32;
    private const WasmValueType I64 = WasmValueType.I64;
    private const WasmValueType F32 = WasmValueType.F32;
    private const WasmValueType F64 = WasmValueType.F64;

    // One switch over the opcode byte; each arm validates and emits. Splitting it would only add calls.
#pragma warning disable CA1502 // Excessive cyclomatic complexity: an opcode dispatch is inherently one big switch.
    private void TranslateInstruction(byte op, ref WasmReader r)
#pragma warning restore CA1502
    {
        switch (op)
        {
            case 0x00:
                Emit(OpCode.Unreachable, 0, 0);
                SetUnreachable();
                break;
            case 0x01:
                break;
            case 0x02:
            case 0x03:
            {
                var (p, res) = ReadBlockType(ref r);
                Pop(p);
                PushFrame(op, p, res);
                if (op == KindLoop && Emitting)
                {
                    var pc = EmitAlways(OpCode.LoopHeader, 0, 0);
                    _frames[_depth - 1].LoopPc = pc;
                    _fuelIndex = pc;
                }

                break;
            }

            case 0x04:
            {
                var (p, res) = ReadBlockType(ref r);
                Pop(I32);
                Pop(p);
                var pc = Emit(OpCode.BrUnless, -1, 0);
                PushFrame(KindIf, p, res);
                _frames[_depth - 1].ElseFixup = pc;
                break;
            }

            case 0x05:
                TranslateElse();
                break;
            case 0x0B:
                TranslateEnd();
                break;
            case 0x0C:
            {
                var target = LabelIndex(ref r);
                var labelTypes = _frames[target].LabelTypes;
                Pop(labelTypes);
                Push(labelTypes);
                EmitBranch(OpCode.BrMove, OpCode.Br, target);
                SetUnreachable();
                break;
            }

            case 0x0D:
            {
                var target = LabelIndex(ref r);
                Pop(I32);
                var labelTypes = _frames[target].LabelTypes;
                Pop(labelTypes);
                Push(labelTypes);
                EmitBranch(OpCode.BrIfMove, OpCode.BrIf, target);
                break;
            }

            case 0x0E:
                TranslateBrTable(ref r);
                break;
            case 0x0F:
            {
                var results = _frames[0].Results;
                Pop(results);
                Emit(OpCode.Return, 0, 0);
                SetUnreachable();
                break;
            }

            case 0x10:
            {
                var f = r.ReadU32();
                if (f >= (uint)_module.FunctionTypes.Count)
                {
                    throw Invalid("unknown function");
                }

                var t = _module.Types[_module.FunctionTypes[(int)f]];
                Pop(t.Parameters);
                Push(t.Results);
                Emit(OpCode.Call, (int)f, 0);
                break;
            }

            case 0x11:
            {
                var typeIndex = r.ReadU32();
                var table = r.ReadU32();
                if (table >= (uint)_module.Tables.Count)
                {
                    throw Invalid("unknown table");
                }

                if (typeIndex >= (uint)_module.Types.Count)
                {
                    throw Invalid("unknown type");
                }

                if (_module.Tables[(int)table].ElementType != WasmValueType.FuncRef)
                {
                    throw Invalid("type mismatch: call_indirect needs a funcref table");
                }

                var t = _module.Types[(int)typeIndex];
                Pop(I32);
                Pop(t.Parameters);
                Push(t.Results);
                Emit(OpCode.CallIndirect, (int)typeIndex, table);
                break;
            }

            case 0x1A:
                Pop();
                Emit(OpCode.Drop, 0, 0);
                break;
            case 0x1B:
            {
                Pop(I32);
                var t1 = Pop();
                var t2 = Pop();
                if (IsReference(t1) || IsReference(t2))
                {
                    throw Invalid("type mismatch: untyped select needs numeric operands");
                }

                if (t1 != t2 && t1 != WasmValueType.Unknown && t2 != WasmValueType.Unknown)
                {
                    throw Invalid("type mismatch: select operands differ");
                }

                Push(t1 == WasmValueType.Unknown ? t2 : t1);
                Emit(OpCode.Select, 0, 0);
                break;
            }

            case 0x1C:
            {
                var n = r.ReadU32();
                if (n != 1)
                {
                    throw Invalid("invalid result arity: typed select needs exactly one type");
                }

                var t = r.ReadValueType();
                Pop(I32);
                Pop(t);
                Pop(t);
                Push(t);
                Emit(OpCode.Select, 0, 0);
                break;
            }

            case 0x20:
            case 0x21:
            case 0x22:
            {
                var index = r.ReadU32();
                if (index >= (uint)_locals.Length)
                {
                    throw Invalid("unknown local");
                }

                var t = _locals[index];
                if (op == 0x20)
                {
                    Push(t);
                }
                else
                {
                    Pop(t);
                    if (op == 0x22)
                    {
                        Push(t);
                    }
                }

                EmitLocal(op, (int)index);
                break;
            }

            case 0x23:
            case 0x24:
            {
                var index = r.ReadU32();
                if (index >= (uint)_module.Globals.Count)
                {
                    throw Invalid("unknown global");
                }

                var g = _module.Globals[(int)index];
                if (op == 0x23)
                {
                    Push(g.ValueType);
                }
                else
                {
                    if (!g.Mutable)
                    {
                        throw Invalid("global is immutable");
                    }

                    Pop(g.ValueType);
                }

                Emit(op, (int)index, 0);
                break;
            }

            case 0x25:
            case 0x26:
            {
                var table = ReadTable(ref r);
                var t = _module.Tables[table].ElementType;
                if (op == 0x25)
                {
                    Pop(I32);
                    Push(t);
                }
                else
                {
                    Pop(t);
                    Pop(I32);
                }

                Emit(op, table, 0);
                break;
            }

            case >= 0x28 and <= 0x3E:
                TranslateMemoryAccess(op, ref r);
                break;
            case 0x3F:
            case 0x40:
                if (r.ReadByte() != 0)
                {
                    throw WasmReader.Malformed("zero byte expected", r.Position - 1);
                }

                RequireMemory();
                if (op == 0x40)
                {
                    Pop(I32);
                }

                Push(I32);
                Emit(op, 0, 0);
                break;
            case 0x41:
                Push(I32);
                Emit(OpCode.Const, OpCode.ConstInteger, (uint)r.ReadS32());
                break;
            case 0x42:
                Push(I64);
                Emit(OpCode.Const, OpCode.ConstInteger, r.ReadS64());
                break;
            case 0x43:
                Push(F32);
                Emit(OpCode.Const, 0, r.ReadFixed32());
                break;
            case 0x44:
                Push(F64);
                Emit(OpCode.Const, 0, (long)r.ReadFixed64());
                break;
            case >= 0x45 and <= 0xC4:
                TranslateNumeric(op, op);
                break;
            case 0xD0:
            {
                var t = r.ReadReferenceType();
                Push(t);
                Emit(OpCode.Const, 0, 0);
                break;
            }

            case 0xD1:
            {
                var t = Pop();
                if (!IsReference(t) && t != WasmValueType.Unknown)
                {
                    throw Invalid("type mismatch: ref.is_null needs a reference");
                }

                Push(I32);

                // References are handles with 0 meaning null, so ref.is_null is i64.eqz on the slot.
                Emit(OpCode.I64Eqz, 0, 0);
                break;
            }

            case 0xD2:
            {
                var f = r.ReadU32();
                if (f >= (uint)_module.FunctionTypes.Count)
                {
                    throw Invalid("unknown function");
                }

                if (!_declaredFunctionReferences.Contains((int)f))
                {
                    throw Invalid("undeclared function reference");
                }

                Push(WasmValueType.FuncRef);
                Emit(OpCode.RefFunc, (int)f, 0);
                break;
            }

            case 0xFC:
                TranslatePrefixFc(ref r);
                break;
            default:
                throw WasmReader.Malformed($"illegal opcode 0x{op:X2}", r.Position - 1);
        }
    }

    private static bool IsReference(WasmValueType t) => t is WasmValueType.FuncRef or WasmValueType.ExternRef;

    private void RequireMemory()
    {
        if (_module.Memories.Count == 0)
        {
            throw Invalid("unknown memory");
        }
    }

    private int ReadTable(ref WasmReader r)
    {
        var table = r.ReadU32();
        if (table >= (uint)_module.Tables.Count)
        {
            throw Invalid("unknown table");
        }

        return (int)table;
    }

    private void TranslateBrTable(ref WasmReader r)
    {
        var countAt = r.Position;
        var count = r.ReadU32();
        if (count > (uint)(r.End - r.Position))
        {
            throw WasmReader.Malformed("unexpected end", countAt);
        }

        var targets = new int[count + 1];
        for (var i = 0; i <= count; i++)
        {
            targets[i] = LabelIndex(ref r);
        }

        Pop(I32);
        var arity = _frames[targets[count]].LabelTypes.Length;
        var checkedLabels = new HashSet<WasmValueType[]>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < count; i++)
        {
            var labelTypes = _frames[targets[i]].LabelTypes;
            if (labelTypes.Length != arity)
            {
                throw Invalid("type mismatch: br_table targets have different arities");
            }

            // Checking against the same label types again cannot change the stack or the verdict, and a
            // br_table may repeat one target millions of times.
            if (!checkedLabels.Add(labelTypes))
            {
                continue;
            }

            Charge(labelTypes.Length);

            // Spec: push_vals(pop_vals(...)) re-pushes what was popped, so a bottom (Unknown) operand stays
            // bottom and can match labels of different types in unreachable code.
            var popped = new WasmValueType[labelTypes.Length];
            for (var j = labelTypes.Length - 1; j >= 0; j--)
            {
                popped[j] = PopActual(labelTypes[j]);
            }

            foreach (var t in popped)
            {
                Push(t);
            }
        }

        Pop(_frames[targets[count]].LabelTypes);
        if (Emitting)
        {
            // The operand height is exact here (reachable), so recompute it after the pops above.
            _height += arity;
            EmitAlways(OpCode.BrTable, (int)count, 0);
            foreach (var target in targets)
            {
                ref var frame = ref _frames[target];
                var pc = EmitAlways(0, 0, ((long)arity << 32) | (uint)(_locals.Length + frame.Height));
                LinkTarget(pc, ref frame);
            }

            _height -= arity;
        }

        SetUnreachable();
    }

    private void TranslateMemoryAccess(byte op, ref WasmReader r)
    {
        var align = r.ReadU32();
        var offset = r.ReadU32();
        RequireMemory();
        var (natural, type, isStore) = op switch
        {
            0x28 => (2, I32, false),
            0x29 => (3, I64, false),
            0x2A => (2, F32, false),
            0x2B => (3, F64, false),
            0x2C or 0x2D => (0, I32, false),
            0x2E or 0x2F => (1, I32, false),
            0x30 or 0x31 => (0, I64, false),
            0x32 or 0x33 => (1, I64, false),
            0x34 or 0x35 => (2, I64, false),
            0x36 => (2, I32, true),
            0x37 => (3, I64, true),
            0x38 => (2, F32, true),
            0x39 => (3, F64, true),
            0x3A => (0, I32, true),
            0x3B => (1, I32, true),
            0x3C => (0, I64, true),
            0x3D => (1, I64, true),
            _ => (2, I64, true),
        };
        if (align > natural)
        {
            throw Invalid("alignment must not be larger than natural");
        }

        if (isStore)
        {
            Pop(type);
            Pop(I32);
            if (CanFuse(1) && _code[_pc - 1].Op == OpCode.LocalGet2)
            {
                // local.get a; local.get v; store → store local v at the address in local a.
                ref var prev = ref _code[_pc - 1];
                prev = new Instruction(OpCode.FusedStoreLocalLocal + op, prev.A, ((long)offset << 32) | (uint)prev.B);
                return;
            }
        }
        else
        {
            Pop(I32);
            Push(type);
            if (CanFuse(1) && _code[_pc - 1].Op == OpCode.LocalGet)
            {
                // local.get x; load → load from the address in local x.
                ref var prev = ref _code[_pc - 1];
                prev = new Instruction(OpCode.FusedLocal + op, prev.A, offset);
                return;
            }
        }

        Emit(op, 0, offset);
    }

    private void TranslateNumeric(int op, int emitOp)
    {
        var (a, b, result) = NumericSignature(op);
        if (b != WasmValueType.Unknown)
        {
            Pop(b);
        }

        Pop(a);
        Push(result);
        EmitNumeric(emitOp);
    }

    /// <summary>Operand and result types of the numeric opcodes 0x45..0xC4 (b is Unknown for unary ops).</summary>
    private static (WasmValueType A, WasmValueType B, WasmValueType Result) NumericSignature(int op) => op switch
    {
        0x45 => (I32, default, I32),
        <= 0x4F => (I32, I32, I32),
        0x50 => (I64, default, I32),
        <= 0x5A => (I64, I64, I32),
        <= 0x60 => (F32, F32, I32),
        <= 0x66 => (F64, F64, I32),
        <= 0x69 => (I32, default, I32),
        <= 0x78 => (I32, I32, I32),
        <= 0x7B => (I64, default, I64),
        <= 0x8A => (I64, I64, I64),
        <= 0x91 => (F32, default, F32),
        <= 0x98 => (F32, F32, F32),
        <= 0x9F => (F64, default, F64),
        <= 0xA6 => (F64, F64, F64),
        0xA7 => (I64, default, I32),
        0xA8 or 0xA9 => (F32, default, I32),
        0xAA or 0xAB => (F64, default, I32),
        0xAC or 0xAD => (I32, default, I64),
        0xAE or 0xAF => (F32, default, I64),
        0xB0 or 0xB1 => (F64, default, I64),
        0xB2 or 0xB3 => (I32, default, F32),
        0xB4 or 0xB5 => (I64, default, F32),
        0xB6 => (F64, default, F32),
        0xB7 or 0xB8 => (I32, default, F64),
        0xB9 or 0xBA => (I64, default, F64),
        0xBB => (F32, default, F64),
        0xBC => (F32, default, I32),
        0xBD => (F64, default, I64),
        0xBE => (I32, default, F32),
        0xBF => (I64, default, F64),
        0xC0 or 0xC1 => (I32, default, I32),
        _ => (I64, default, I64),
    };

    private void TranslatePrefixFc(ref WasmReader r)
    {
        var at = r.Position;
        var sub = r.ReadU32();
        var op = OpCode.PrefixFcBase + (int)sub;
        switch (sub)
        {
            case <= 7:
            {
                var from = (sub & 2) == 0 ? F32 : F64;
                var to = sub < 4 ? I32 : I64;
                from = sub is 4 or 5 ? F32 : sub is 6 or 7 ? F64 : from;
                Pop(from);
                Push(to);
                Emit(op, 0, 0);
                break;
            }

            case 8:
            {
                var segment = ReadDataIndex(ref r);
                if (r.ReadByte() != 0)
                {
                    throw WasmReader.Malformed("zero byte expected", r.Position - 1);
                }

                RequireMemory();
                Pop(I32);
                Pop(I32);
                Pop(I32);
                Emit(op, segment, 0);
                break;
            }

            case 9:
                Emit(op, ReadDataIndex(ref r), 0);
                break;
            case 10:
            case 11:
                if (r.ReadByte() != 0 || (sub == 10 && r.ReadByte() != 0))
                {
                    throw WasmReader.Malformed("zero byte expected", r.Position - 1);
                }

                RequireMemory();
                Pop(I32);
                Pop(I32);
                Pop(I32);
                Emit(op, 0, 0);
                break;
            case 12:
            {
                var segment = ReadElementIndex(ref r);
                var table = ReadTable(ref r);
                if (_module.Elements[segment].ElementType != _module.Tables[table].ElementType)
                {
                    throw Invalid("type mismatch: element segment and table types differ");
                }

                Pop(I32);
                Pop(I32);
                Pop(I32);
                Emit(op, segment, table);
                break;
            }

            case 13:
                Emit(op, ReadElementIndex(ref r), 0);
                break;
            case 14:
            {
                var dst = ReadTable(ref r);
                var src = ReadTable(ref r);
                if (_module.Tables[dst].ElementType != _module.Tables[src].ElementType)
                {
                    throw Invalid("type mismatch: table.copy between tables of different types");
                }

                Pop(I32);
                Pop(I32);
                Pop(I32);
                Emit(op, dst, src);
                break;
            }

            case 15:
            {
                var table = ReadTable(ref r);
                Pop(I32);
                Pop(_module.Tables[table].ElementType);
                Push(I32);
                Emit(op, table, 0);
                break;
            }

            case 16:
                Push(I32);
                Emit(op, ReadTable(ref r), 0);
                break;
            case 17:
            {
                var table = ReadTable(ref r);
                Pop(I32);
                Pop(_module.Tables[table].ElementType);
                Pop(I32);
                Emit(op, table, 0);
                break;
            }

            default:
                throw WasmReader.Malformed($"illegal opcode 0xFC {sub}", at);
        }
    }

    private int ReadDataIndex(ref WasmReader r)
    {
        var index = r.ReadU32();
        if (_module.DataCount is not { } count)
        {
            throw WasmReader.Malformed("data count section required", r.Position);
        }

        if (index >= (uint)count)
        {
            throw Invalid("unknown data segment");
        }

        return (int)index;
    }

    private int ReadElementIndex(ref WasmReader r)
    {
        var index = r.ReadU32();
        if (index >= (uint)_module.Elements.Count)
        {
            throw Invalid("unknown elem segment");
        }

        return (int)index;
    }
}
