using Sandbox.Wasm.Decoding;
using Sandbox.Wasm.Execution;

namespace Sandbox.Wasm.Validation;

/// <summary>
/// Validates one function body with the spec's operand-stack algorithm (appendix "Validation Algorithm",
/// including the polymorphic stack after unreachable/br/return) and, in the same single pass, translates
/// it into the internal form (<see cref="CompiledFunction"/>). Control nesting lives on an explicit array
/// stack capped by <see cref="WasmEngineOptions.MaxBlockDepth"/>: no recursion proportional to input.
/// Code is emitted only while reachable; because every value is one slot, the static operand height at each
/// reachable instruction is exact, so branches know at translation time whether values must move.
/// </summary>
internal sealed partial class FunctionTranslator
{
    private const byte KindFunction = 0x00;
    private const byte KindBlock = 0x02;
    private const byte KindLoop = 0x03;
    private const byte KindIf = 0x04;
    private const byte KindElse = 0x05;

    private readonly ModuleDefinition _module;
    private readonly WasmEngineOptions _options;
    private readonly HashSet<int> _declaredFunctionReferences;
    private readonly int _functionIndex;
    private readonly CancellationToken _cancellation;
    private WasmValueType[] _locals = [];
    private WasmValueType[] _stack = new WasmValueType[64];
    private int _height;
    private int _maxHeight;
    private ControlFrame[] _frames = new ControlFrame[16];
    private int _depth;
    private Instruction[] _code = new Instruction[64];
    private int _pc;
    private int _fuelIndex;

    /// <summary>
    /// Type-stack operations done so far, against a budget proportional to the body size: multi-value
    /// arities make a few bytes of input cost up to MaxFunctionTypeArity operations (a block taking 1,000
    /// parameters, repeated), so without a budget a hostile body could stall validation for seconds.
    /// </summary>
    private long _work;
    private long _workBudget;

    /// <summary>Position of the most recent jump target: the peephole never fuses across it.</summary>
    private int _labelPc = -1;

    public FunctionTranslator(ModuleDefinition module, WasmEngineOptions options, HashSet<int> declaredFunctionReferences, int functionIndex, CancellationToken cancellation = default)
    {
        _cancellation = cancellation;
        _module = module;
        _options = options;
        _declaredFunctionReferences = declaredFunctionReferences;
        _functionIndex = functionIndex;
    }

    private struct ControlFrame
    {
        public byte Kind;
        public WasmValueType[] Parameters;
        public WasmValueType[] Results;

        /// <summary>Operand height at entry, below the block's parameters.</summary>
        public int Height;
        public bool Unreachable;

        /// <summary>The whole frame is unreachable code: nothing inside it is emitted.</summary>
        public bool Dead;
        public int LoopPc;

        /// <summary>Head of a linked list (threaded through <see cref="Instruction.A"/>) of forward jumps to this frame's end.</summary>
        public int FixupHead;
        public int ElseFixup;

        public readonly WasmValueType[] LabelTypes => Kind == KindLoop ? Parameters : Results;
    }

    private bool Emitting
    {
        get
        {
            ref var f = ref _frames[_depth - 1];
            return !f.Unreachable && !f.Dead;
        }
    }

    public CompiledFunction Translate(FunctionType type, FunctionBody body)
    {
        var localCount = type.Parameters.Length + body.Locals.Length;
        if (localCount > _options.MaxLocals)
        {
            throw new WasmDecodeException($"too many locals: {localCount} exceeds the cap of {_options.MaxLocals} (MaxLocals)") { IsLimit = true, Offset = body.CodeStart };
        }

        _locals = new WasmValueType[localCount];
        type.Parameters.CopyTo(_locals, 0);
        body.Locals.CopyTo(_locals, type.Parameters.Length);

        _frames[0] = new ControlFrame { Kind = KindFunction, Parameters = [], Results = type.Results, FixupHead = -1, ElseFixup = -1 };
        _depth = 1;
        _fuelIndex = Emit(OpCode.Fuel, 0, 0);

        _workBudget = (WorkPerByte * (long)(body.CodeEnd - body.CodeStart)) + 65_536;
        var reader = new WasmReader(_module.Bytes, body.CodeStart, body.CodeEnd);
        var instructions = 0;
        while (_depth > 0)
        {
            // A body may be megabytes long: the run's deadline is checked inside it too, every 64k instructions.
            if ((++instructions & 0xFFFF) == 0)
            {
                _cancellation.ThrowIfCancellationRequested();
            }

            if (reader.AtEnd)
            {
                throw WasmReader.Malformed("unexpected end of section or function", reader.Position);
            }

            var op = reader.ReadByte();
            if (Emitting)
            {
                // Fuel counts WebAssembly instructions, charged per basic block when the block is entered.
                _code[_fuelIndex].A++;
            }

            TranslateInstruction(op, ref reader);
        }

        if (!reader.AtEnd)
        {
            throw WasmReader.Malformed("section size mismatch: END opcode expected", reader.Position);
        }

        return new CompiledFunction
        {
            Code = _code.AsSpan(0, _pc).ToArray(),
            ParameterCount = type.Parameters.Length,
            LocalCount = localCount,
            ResultCount = type.Results.Length,
            MaxHeight = localCount + _maxHeight,
            EntryFuel = _code[0].A,
        };
    }

    /// <summary>Validation work allowed per byte of body; ordinary code needs one or two.</summary>
    private const long WorkPerByte = 16;

    private void Charge(int operations)
    {
        _work += operations;
        if (_work > _workBudget)
        {
            throw new WasmDecodeException($"function {_functionIndex} needs more validation work than its size justifies (multi-value arities repeated): refused") { IsLimit = true };
        }
    }

    private WasmValidationException Invalid(string message) => new($"{message} (function {_functionIndex})") { FunctionIndex = _functionIndex };

    private int Emit(int op, int a, long b)
    {
        if (!Emitting)
        {
            return -1;
        }

        return EmitAlways(op, a, b);
    }

    private int EmitAlways(int op, int a, long b)
    {
        if (_pc == _code.Length)
        {
            Array.Resize(ref _code, _code.Length * 2);
        }

        _code[_pc] = new Instruction(op, a, b);
        return _pc++;
    }

    /// <summary>True when the last <paramref name="count"/> emitted instructions can be merged with the next one:
    /// they exist, the frame is emitting, and no jump lands between them and the next instruction.</summary>
    private bool CanFuse(int count) => _options.FuseInstructions && Emitting && _pc - count >= 0 && _labelPc <= _pc - count;

    /// <summary>
    /// Emits a numeric instruction, fusing it with the preceding <c>local.get</c>/<c>i32.const</c>/<c>i64.const</c>
    /// when it is an integer binary op. Safe because validation fixed the operand order: the instruction
    /// just before pushed the op's second operand (and the one before that, its first).
    /// </summary>
    private void EmitNumeric(int op)
    {
        if (IsFusableBinary(op) && CanFuse(1))
        {
            ref var prev = ref _code[_pc - 1];
            switch (prev.Op)
            {
                case OpCode.Const:
                    prev = new Instruction(OpCode.FusedImmediate + op, 0, prev.B);
                    return;
                case OpCode.LocalGet:
                    prev = new Instruction(OpCode.FusedLocal + op, prev.A, 0);
                    return;
                case OpCode.LocalGet2:
                    prev = new Instruction(OpCode.FusedLocalLocal + op, prev.A, prev.B);
                    return;
                default:
                    break;
            }
        }

        Emit(op, 0, 0);
    }

    private static bool IsI32Binary(int op) => op is (>= 0x46 and <= 0x4F) or (>= 0x6A and <= 0x78);

    private static bool IsI32Compare(int op) => op is >= 0x46 and <= 0x4F;

    private static bool IsFusableBinary(int op) => op is (>= 0x46 and <= 0x4F) or (>= 0x51 and <= 0x5A) or (>= 0x6A and <= 0x78) or (>= 0x7C and <= 0x8A);

    /// <summary>Emits local.get, local.set or local.tee, with the peephole fusions that involve locals.</summary>
    private void EmitLocal(int op, int index)
    {
        if (op == OpCode.LocalGet && CanFuse(1) && _code[_pc - 1].Op == OpCode.LocalGet)
        {
            ref var prev = ref _code[_pc - 1];
            prev = new Instruction(OpCode.LocalGet2, prev.A, index);
            return;
        }

        if (op == OpCode.LocalSet && CanFuse(1))
        {
            ref var prev = ref _code[_pc - 1];
            var fused = prev.Op;
            if (IsFusableBinary(fused))
            {
                // a op b; local.set x → x = a op b.
                prev = new Instruction(OpCode.FusedToLocal + fused, index, 0);
                return;
            }

            if (IsI32Binary(fused - OpCode.FusedLocalLocal))
            {
                // local.get y; local.get z; op; local.set x → x = y op z.
                prev = new Instruction(OpCode.FusedLocalLocalToLocal + fused - OpCode.FusedLocalLocal, index, (prev.B << 32) | (uint)prev.A);
                return;
            }

            if (IsI32Binary(fused - OpCode.FusedImmediate) && CanFuse(2) && _code[_pc - 2].Op == OpCode.LocalGet)
            {
                // local.get y; i32.const c; op; local.set x → x = y op c (loop counters, pointer bumps).
                var constant = prev.B;
                _pc--;
                _code[_pc - 1] = new Instruction(OpCode.FusedLocalImmediateToLocal + fused - OpCode.FusedImmediate, index, (constant << 32) | (uint)_code[_pc - 1].A);
                return;
            }
        }

        if (op == OpCode.LocalTee && CanFuse(1))
        {
            ref var prev = ref _code[_pc - 1];
            var fused = prev.Op;
            if (IsI32Binary(fused))
            {
                prev = new Instruction(OpCode.FusedTee + fused, index, 0);
                return;
            }

            if (IsI32Binary(fused - OpCode.FusedImmediate))
            {
                var constant = prev.B;
                if (CanFuse(2) && _code[_pc - 2].Op == OpCode.LocalGet)
                {
                    // local.get y; i32.const c; op; local.tee x → x = y op c, pushed (address computations).
                    _pc--;
                    _code[_pc - 1] = new Instruction(OpCode.FusedLocalImmediateTee + fused - OpCode.FusedImmediate, index, (constant << 32) | (uint)_code[_pc - 1].A);
                }
                else
                {
                    prev = new Instruction(OpCode.FusedImmediateTee + fused - OpCode.FusedImmediate, index, constant);
                }

                return;
            }
        }

        Emit(op, index, 0);
    }

    private void Push(WasmValueType t)
    {
        if (_height == _stack.Length)
        {
            Array.Resize(ref _stack, _stack.Length * 2);
        }

        _stack[_height++] = t;
        if (_height > _maxHeight)
        {
            _maxHeight = _height;
        }
    }

    private void Push(WasmValueType[] types)
    {
        Charge(types.Length);
        foreach (var t in types)
        {
            Push(t);
        }
    }

    private WasmValueType Pop()
    {
        ref var f = ref _frames[_depth - 1];
        if (_height == f.Height)
        {
            if (f.Unreachable)
            {
                return WasmValueType.Unknown;
            }

            throw Invalid("type mismatch: operand stack underflow");
        }

        return _stack[--_height];
    }

    private WasmValueType Pop(WasmValueType expected)
    {
        var actual = Pop();
        if (actual != expected && actual != WasmValueType.Unknown && expected != WasmValueType.Unknown)
        {
            throw Invalid($"type mismatch: expected {expected}, found {actual}");
        }

        return actual == WasmValueType.Unknown ? expected : actual;
    }

    /// <summary>Pops and checks like <see cref="Pop(WasmValueType)"/> but returns the actual type (Unknown stays Unknown).</summary>
    private WasmValueType PopActual(WasmValueType expected)
    {
        var actual = Pop();
        if (actual != expected && actual != WasmValueType.Unknown && expected != WasmValueType.Unknown)
        {
            throw Invalid($"type mismatch: expected {expected}, found {actual}");
        }

        return actual;
    }

    private void Pop(WasmValueType[] types)
    {
        Charge(types.Length);
        for (var i = types.Length - 1; i >= 0; i--)
        {
            Pop(types[i]);
        }
    }

    private void SetUnreachable()
    {
        ref var f = ref _frames[_depth - 1];
        _height = f.Height;
        f.Unreachable = true;
    }

    private void PushFrame(byte kind, WasmValueType[] parameters, WasmValueType[] results)
    {
        if (_depth >= _options.MaxBlockDepth)
        {
            throw new WasmDecodeException($"block nesting deeper than the cap of {_options.MaxBlockDepth} (MaxBlockDepth) in function {_functionIndex}") { IsLimit = true };
        }

        if (_depth == _frames.Length)
        {
            Array.Resize(ref _frames, _frames.Length * 2);
        }

        ref var parent = ref _frames[_depth - 1];
        _frames[_depth++] = new ControlFrame
        {
            Kind = kind,
            Parameters = parameters,
            Results = results,
            Height = _height,
            Dead = parent.Dead || parent.Unreachable,
            FixupHead = -1,
            ElseFixup = -1,
            LoopPc = -1,
        };
        Push(parameters);
    }

    private (WasmValueType[] Parameters, WasmValueType[] Results) ReadBlockType(ref WasmReader r)
    {
        var b = r.PeekByte();
        if (b == 0x40)
        {
            r.ReadByte();
            return ([], []);
        }

        if (b is 0x7F or 0x7E or 0x7D or 0x7C or 0x70 or 0x6F)
        {
            r.ReadByte();
            return ([], [(WasmValueType)b]);
        }

        var index = r.ReadSigned(33);
        if (index < 0 || index >= _module.Types.Count)
        {
            throw Invalid("unknown type");
        }

        var t = _module.Types[(int)index];
        return (t.Parameters, t.Results);
    }

    /// <summary>Emits a jump to the label of frame <paramref name="frameIndex"/> from the current (exact) height.</summary>
    private void EmitBranch(int conditionalOp, int plainOp, int frameIndex)
    {
        if (!Emitting)
        {
            return;
        }

        ref var target = ref _frames[frameIndex];
        var arity = target.LabelTypes.Length;
        var needsMove = _height - arity != target.Height;
        var op = needsMove ? conditionalOp : plainOp;
        var packed = ((long)arity << 32) | (uint)(_locals.Length + target.Height);
        int pc;
        if (op == OpCode.BrIf && CanFuse(1) && TryFuseConditionalBranch())
        {
            pc = _pc - 1;
        }
        else
        {
            pc = EmitAlways(op, 0, packed);
        }

        LinkTarget(pc, ref target);
    }

    /// <summary>
    /// Folds the condition of a br_if (that moves no values) into the branch: the last emitted instruction
    /// becomes the conditional jump, whose target the caller links.
    /// </summary>
    private bool TryFuseConditionalBranch()
    {
        ref var prev = ref _code[_pc - 1];
        var op = prev.Op;
        if (op == 0x45)
        {
            prev = new Instruction(OpCode.BrUnless, 0, 0);
        }
        else if (IsI32Compare(op))
        {
            prev = new Instruction(OpCode.BrIfCompare + op, 0, 0);
        }
        else if (IsI32Compare(op - OpCode.FusedLocalLocal))
        {
            prev = new Instruction(OpCode.BrIfCompareLocalLocal + op - OpCode.FusedLocalLocal, 0, (prev.B << 32) | (uint)prev.A);
        }
        else if (IsI32Compare(op - OpCode.FusedImmediate))
        {
            if (CanFuse(2) && _code[_pc - 2].Op == OpCode.LocalGet)
            {
                var constant = prev.B;
                _pc--;
                _code[_pc - 1] = new Instruction(OpCode.BrIfCompareLocalImmediate + op - OpCode.FusedImmediate, 0, (constant << 32) | (uint)_code[_pc - 1].A);
            }
            else
            {
                prev = new Instruction(OpCode.BrIfCompareImmediate + op - OpCode.FusedImmediate, 0, prev.B);
            }
        }
        else
        {
            return false;
        }

        return true;
    }

    private void LinkTarget(int pc, ref ControlFrame target)
    {
        if (target.Kind == KindLoop)
        {
            _code[pc].A = target.LoopPc;
        }
        else
        {
            _code[pc].A = target.FixupHead;
            target.FixupHead = pc;
        }
    }

    private int LabelIndex(ref WasmReader r)
    {
        var depth = r.ReadU32();
        if (depth >= (uint)_depth)
        {
            throw Invalid("unknown label");
        }

        return _depth - 1 - (int)depth;
    }

    private void TranslateElse()
    {
        ref var f = ref _frames[_depth - 1];
        if (f.Kind != KindIf)
        {
            throw Invalid("else without matching if");
        }

        Pop(f.Results);
        if (_height != f.Height)
        {
            throw Invalid("type mismatch: values remain at the end of the then-branch");
        }

        if (Emitting)
        {
            var pc = EmitAlways(OpCode.Br, f.FixupHead, 0);
            f.FixupHead = pc;
        }

        f.Kind = KindElse;
        f.Unreachable = false;
        _labelPc = _pc;
        if (f.ElseFixup >= 0)
        {
            _code[f.ElseFixup].A = _pc;
            f.ElseFixup = -1;
        }

        Push(f.Parameters);
        if (!f.Dead)
        {
            _fuelIndex = EmitAlways(OpCode.Fuel, 0, 0);
        }
    }

    private void TranslateEnd()
    {
        ref var f = ref _frames[_depth - 1];
        Pop(f.Results);
        if (_height != f.Height)
        {
            throw Invalid("type mismatch: values remain at the end of the block");
        }

        if (f.Kind == KindIf && !f.Parameters.AsSpan().SequenceEqual(f.Results))
        {
            throw Invalid("type mismatch: if without else must not change the stack type");
        }

        var endPc = _pc;
        _labelPc = _pc;
        var targeted = f.FixupHead >= 0 || f.ElseFixup >= 0;
        for (var pc = f.FixupHead; pc >= 0;)
        {
            var next = _code[pc].A;
            _code[pc].A = endPc;
            pc = next;
        }

        if (f.ElseFixup >= 0)
        {
            _code[f.ElseFixup].A = endPc;
        }

        var results = f.Results;
        var isLoop = f.Kind == KindLoop;
        _depth--;
        if (_depth == 0)
        {
            // Every path out of the function (fallthrough and branches to the outermost label) ends here.
            EmitAlways(OpCode.Return, 0, 0);
            return;
        }

        Push(results);
        if ((targeted || isLoop) && Emitting)
        {
            _fuelIndex = EmitAlways(OpCode.Fuel, 0, 0);
        }
    }
}
