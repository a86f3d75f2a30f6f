using System.Reflection;
using System.Reflection.Emit;
using IlOpCode = System.Reflection.Emit.OpCode;

namespace Sandbox.Wasm.Execution;

/// <remarks>
/// Integer operations and fuel charges written as IL in place, not as calls to <see cref="JitOps"/> helpers. Same
/// semantics (the helpers are the reference; the spec suite and TierEquivalenceTests run both tiers), but the .NET
/// JIT inlines callees only up to a budget per method: in a large guest function (sha256's block, a bytecode
/// dispatch loop) the budget ran out after a few hundred inlinees and the rest of the helpers stayed real calls in
/// the hot loop (perf and JitDisasm showed i32.add, i32.and and ChargeBlock as calls). Plain IL costs no budget,
/// which leaves it to the loads and stores. A comparison followed by br_if (or by i32.eqz and br_if) becomes one compare-and-branch.
/// </remarks>
internal static partial class IlCompiler
{
    private static readonly FieldInfo s_fuel = typeof(Interpreter).GetField(nameof(Interpreter.Fuel))!;

    private sealed partial class Emitter
    {
        /// <summary>Charges a block's fuel as Interpreter.ChargeBlock does: subtract, store, trap when negative.</summary>
        private void EmitCharge(long amount)
        {
            var il = _il;
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldfld, s_fuel);
            il.Emit(OpCodes.Ldc_I8, amount);
            il.Emit(OpCodes.Sub);
            il.Emit(OpCodes.Dup);
            il.Emit(OpCodes.Stloc, _fuelTemp);
            il.Emit(OpCodes.Stfld, s_fuel);
            il.Emit(OpCodes.Ldloc, _fuelTemp);
            il.Emit(OpCodes.Ldc_I4_0);
            il.Emit(OpCodes.Conv_I8);
            il.Emit(OpCodes.Blt, TrapLabel(WasmTrapKind.OutOfFuel));
        }

        /// <summary>
        /// Emits <paramref name="op"/> at <paramref name="pc"/> as plain IL when it is one of the integer operations
        /// below; a comparison directly followed by br_if/br_unless (not itself a jump target) is fused with it and
        /// <paramref name="pc"/> moves past the branch. False: not handled here.
        /// </summary>
        private bool TryEmitInteger(int op, ref int pc, int h, out int after)
        {
            var il = _il;
            after = h;
            if (Comparison(op) is { } compare)
            {
                var wide = op >= 0x50;
                var next = pc + 1 < _code.Length ? _code[pc + 1].Op : -1;
                var fuse = (next == OpCode.BrIf || next == OpCode.BrUnless) && !_isTarget[pc + 1];

                // A comparison, i32.eqz, then the branch (clang's `x != c` before an `if`): the branch with its sense
                // inverted, skipping the eqz. Fuel is unaffected: charges are their own instructions, none skipped.
                var negated = false;
                if (!fuse && op != 0x45 && next == 0x45 && pc + 2 < _code.Length && !_isTarget[pc + 1] && !_isTarget[pc + 2]
                    && _code[pc + 2].Op is OpCode.BrIf or OpCode.BrUnless)
                {
                    fuse = true;
                    negated = true;
                    next = _code[pc + 2].Op;
                }

                var unary = op is 0x45 or 0x50;
                var operands = unary ? 1 : 2;
                Operand(h - operands, wide);
                if (unary)
                {
                    il.Emit(OpCodes.Ldc_I4_0);
                    if (wide)
                    {
                        il.Emit(OpCodes.Conv_I8);
                    }
                }
                else
                {
                    Operand(h - 1, wide);
                }

                if (fuse)
                {
                    var skip = negated ? 2 : 1;
                    ref var branch = ref _code[pc + skip];
                    var (taken, notTaken) = compare;
                    il.Emit((next == OpCode.BrIf) != negated ? taken : notTaken, _labels[branch.A]);
                    Flow(branch.A, h - operands);
                    pc += skip;
                    after = h - operands;
                    return true;
                }

                // Materialise 0/1: the branch opcodes' value forms (ceq, clt, cgt and their negations).
                EmitCompareValue(op);
                il.Emit(OpCodes.Conv_U8);
                Store(h - operands);
                after = h - operands + 1;
                return true;
            }

            if (Arithmetic(op) is not { } arithmetic)
            {
                switch (op)
                {
                    case 0xA7: // i32.wrap_i64
                    case 0xAD: // i64.extend_i32_u
                        Load(h - 1);
                        il.Emit(OpCodes.Conv_U4);
                        il.Emit(OpCodes.Conv_U8);
                        Store(h - 1);
                        return true;
                    case 0xAC: // i64.extend_i32_s
                        Load(h - 1);
                        il.Emit(OpCodes.Conv_I4);
                        il.Emit(OpCodes.Conv_I8);
                        Store(h - 1);
                        return true;
                    default:
                        return false;
                }
            }

            var (il32, isShift, is64) = arithmetic;
            Operand(h - 2, is64);
            Operand(h - 1, is64);
            if (isShift)
            {
                // WebAssembly takes the count modulo the width; IL leaves counts >= width unspecified.
                if (is64)
                {
                    il.Emit(OpCodes.Conv_I4);
                }

                il.Emit(OpCodes.Ldc_I4, is64 ? 63 : 31);
                il.Emit(OpCodes.And);
            }

            il.Emit(il32);
            if (!is64)
            {
                // An i32 slot holds its value zero-extended (conv.u8 of an int32 zero-extends).
                il.Emit(OpCodes.Conv_U8);
            }

            Store(h - 2);
            after = h - 1;
            return true;
        }

        /// <summary>Pushes a slot as an int32 (low 32 bits) or as the whole int64.</summary>
        private void Operand(int slot, bool wide)
        {
            Load(slot);
            if (!wide)
            {
                _il.Emit(OpCodes.Conv_U4);
            }
        }

        /// <summary>i32/i64 eqz, eq .. ge_u: the branch taken when the comparison holds, and when it does not.</summary>
        private static (IlOpCode Taken, IlOpCode NotTaken)? Comparison(int op) => (op is >= 0x50 ? op - 0x50 + 0x45 : op) switch
        {
            _ when op is < 0x45 or > 0x5A => null,
            0x45 => (OpCodes.Beq, OpCodes.Bne_Un),    // eqz: compared with zero
            0x46 => (OpCodes.Beq, OpCodes.Bne_Un),    // eq
            0x47 => (OpCodes.Bne_Un, OpCodes.Beq),    // ne
            0x48 => (OpCodes.Blt, OpCodes.Bge),       // lt_s
            0x49 => (OpCodes.Blt_Un, OpCodes.Bge_Un), // lt_u
            0x4A => (OpCodes.Bgt, OpCodes.Ble),       // gt_s
            0x4B => (OpCodes.Bgt_Un, OpCodes.Ble_Un), // gt_u
            0x4C => (OpCodes.Ble, OpCodes.Bgt),       // le_s
            0x4D => (OpCodes.Ble_Un, OpCodes.Bgt_Un), // le_u
            0x4E => (OpCodes.Bge, OpCodes.Blt),       // ge_s
            0x4F => (OpCodes.Bge_Un, OpCodes.Blt_Un), // ge_u
            _ => null,
        };

        private void EmitCompareValue(int op)
        {
            var il = _il;
            switch (op >= 0x50 ? op - 0x50 + 0x45 : op)
            {
                case 0x45:
                case 0x46:
                    il.Emit(OpCodes.Ceq);
                    return;
                case 0x48:
                    il.Emit(OpCodes.Clt);
                    return;
                case 0x49:
                    il.Emit(OpCodes.Clt_Un);
                    return;
                case 0x4A:
                    il.Emit(OpCodes.Cgt);
                    return;
                case 0x4B:
                    il.Emit(OpCodes.Cgt_Un);
                    return;
                default:
                    // ne, le_s, le_u, ge_s, ge_u: the opposite comparison, negated.
                    il.Emit((op >= 0x50 ? op - 0x50 + 0x45 : op) switch
                    {
                        0x47 => OpCodes.Ceq,
                        0x4C => OpCodes.Cgt,
                        0x4D => OpCodes.Cgt_Un,
                        0x4E => OpCodes.Clt,
                        _ => OpCodes.Clt_Un,
                    });
                    il.Emit(OpCodes.Ldc_I4_0);
                    il.Emit(OpCodes.Ceq);
                    return;
            }
        }

        /// <summary>i32/i64 add, sub, mul, and, or, xor and shifts: the IL opcode, whether it is a shift, whether 64-bit.</summary>
        private static (IlOpCode Il, bool Shift, bool Wide)? Arithmetic(int op) => op switch
        {
            0x6A => (OpCodes.Add, false, false),
            0x6B => (OpCodes.Sub, false, false),
            0x6C => (OpCodes.Mul, false, false),
            0x71 => (OpCodes.And, false, false),
            0x72 => (OpCodes.Or, false, false),
            0x73 => (OpCodes.Xor, false, false),
            0x74 => (OpCodes.Shl, true, false),
            0x75 => (OpCodes.Shr, true, false),
            0x76 => (OpCodes.Shr_Un, true, false),
            0x7C => (OpCodes.Add, false, true),
            0x7D => (OpCodes.Sub, false, true),
            0x7E => (OpCodes.Mul, false, true),
            0x83 => (OpCodes.And, false, true),
            0x84 => (OpCodes.Or, false, true),
            0x85 => (OpCodes.Xor, false, true),
            0x86 => (OpCodes.Shl, true, true),
            0x87 => (OpCodes.Shr, true, true),
            0x88 => (OpCodes.Shr_Un, true, true),
            _ => null,
        };
    }
}
