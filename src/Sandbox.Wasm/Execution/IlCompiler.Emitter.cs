using System.Reflection;
using System.Reflection.Emit;
using Sandbox.Wasm.Decoding;

namespace Sandbox.Wasm.Execution;

internal static partial class IlCompiler
{
    private const BindingFlags Internal = BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static;

    private static readonly MethodInfo?[] s_numeric = BuildTable("Op", 0x100);
    private static readonly MethodInfo s_enter = Helper(nameof(Interpreter.EnterCompiled));

    // Read and written as fields in place (the value stack, the depth, the interrupt flag, memory 0), not through
    // small helpers: in a large function the JIT stops inlining (its budget and local-count limits), and such
    // helpers stayed calls at every loop header and call site (JitDisasm of CPython's compiled functions).
    private const BindingFlags InstanceFields = BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Instance;
    private static readonly FieldInfo s_stackField = Field(typeof(Interpreter), "_stack");
    private static readonly FieldInfo s_depthField = Field(typeof(Interpreter), "_depth");
    private static readonly FieldInfo s_interruptField = Field(typeof(Interpreter), "_interruptRequested");
    private static readonly FieldInfo s_memory0 = Field(typeof(WasmInstance), nameof(WasmInstance.Memory0));
    private static readonly FieldInfo s_memoryBufferField = Field(typeof(WasmMemory), nameof(WasmMemory.Buffer));
    private static readonly FieldInfo s_memoryByteLength = Field(typeof(WasmMemory), nameof(WasmMemory.ByteLength));
    private static readonly MethodInfo s_emptyBytes = typeof(Array).GetMethod(nameof(Array.Empty))!.MakeGenericMethod(typeof(byte));
    private static readonly MethodInfo s_callUncompiled = Helper(nameof(Interpreter.CallUncompiledFromCompiled));
    private static readonly FieldInfo s_functionCode = typeof(WasmFunction).GetField(nameof(WasmFunction.Code), InstanceFields)!;
    private static readonly FieldInfo s_functionInstance = typeof(WasmFunction).GetField(nameof(WasmFunction.Instance), InstanceFields)!;
    private static readonly FieldInfo s_codeJit = typeof(CompiledFunction).GetField(nameof(CompiledFunction.Jit))!;
    private static readonly MethodInfo s_compiledInvoke = typeof(CompiledCode).GetMethod("Invoke")!;
    private static readonly MethodInfo s_resolveIndirect = Helper(nameof(Interpreter.ResolveIndirect));
    private static readonly MethodInfo s_tableGet = Helper(nameof(Interpreter.TableGetFromCompiled));
    private static readonly MethodInfo s_tableSet = Helper(nameof(Interpreter.TableSetFromCompiled));
    private static readonly MethodInfo s_memoryGrow = Helper(nameof(Interpreter.MemoryGrowFromCompiled));
    private static readonly FieldInfo s_constants = typeof(ConstantPool).GetField(nameof(ConstantPool.Values))!;
    private static readonly MethodInfo s_bulk = Helper(nameof(Interpreter.BulkFromCompiled));
    private static readonly MethodInfo s_functionHandle = Helper(nameof(Interpreter.FunctionHandle));
    private static readonly MethodInfo s_throw = Helper(nameof(Interpreter.Throw));
    private static readonly FieldInfo s_functions = typeof(WasmInstance).GetField(nameof(WasmInstance.Functions), BindingFlags.NonPublic | BindingFlags.Instance)!;
    private static readonly FieldInfo s_globals = typeof(WasmInstance).GetField(nameof(WasmInstance.Globals), BindingFlags.NonPublic | BindingFlags.Instance)!;
    private static readonly FieldInfo s_globalBits = typeof(WasmGlobal).GetField(nameof(WasmGlobal.Bits), BindingFlags.NonPublic | BindingFlags.Instance)!;

    private static MethodInfo Helper(string name) => typeof(Interpreter).GetMethod(name, Internal)!;

    private static FieldInfo Field(Type type, string name) =>
        type.GetField(name, InstanceFields) ?? throw new MissingFieldException(type.Name, name);

    private static MethodInfo?[] BuildTable(string prefix, int size)
    {
        var table = new MethodInfo?[size];
        for (var op = 0; op < size; op++)
        {
            table[op] = typeof(JitOps).GetMethod($"{prefix}{op:X2}", Internal);
        }

        return table;
    }

    /// <summary>One function's IL. Operand heights are absolute slot indices (locals first, then operands).</summary>
    private sealed partial class Emitter
    {
        private readonly CompiledFunction _function;
        private readonly ModuleDefinition _module;
        private readonly MeteredIl _il;
        private readonly Instruction[] _code;
        private readonly LocalBuilder[] _slots;
        private readonly Label[] _labels;
        private readonly bool[] _isTarget;

        /// <summary>Operand height on entry to each instruction; -1 until a path to it is seen (never: dead code).</summary>
        private readonly int[] _heights;
        private LocalBuilder _memory = null!;
        private LocalBuilder _memoryObject = null!;
        private LocalBuilder _memoryLength = null!;
        private LocalBuilder _globals = null!;
        private LocalBuilder _stack = null!;
        private LocalBuilder _callee = null!;
        private LocalBuilder _calleeCode = null!;
        private LocalBuilder _calleeJit = null!;
        private LocalBuilder _fuelTemp = null!;
        private LocalBuilder _address = null!;
        private LocalBuilder _constants = null!;

        /// <summary>
        /// Whether the function has f32.reinterpret_i32 or f64.reinterpret_i64, the only way an integer value becomes a
        /// float inside one function (slots are typed by validation; calls, memory and globals are opaque to the JIT).
        /// </summary>
        private bool _reinterpretsIntegers;

        /// <summary>The instruction being emitted.</summary>
        private int _pc;

        /// <summary>One region of a split function (null: the whole function in one method), see <see cref="CompileRegions"/>.</summary>
        private readonly Region? _region;

        /// <summary>Slots this method reads and writes (a region loads and stores only those at its edges).</summary>
        private readonly bool[] _read;
        private readonly bool[] _written;

        /// <summary>The whole emission's record of each unit's slot loads, stores and control transfers (for <see cref="Liveness"/>); null in a region.</summary>
        public UnitRecord? Units { get; }

        /// <summary>True while the whole emission emits an instruction: its loads, stores and transfers are recorded.</summary>
        private bool _recording;

        /// <summary>IL offset and slot references (Load/Store, the bulk of the JIT's local reference count) at the start of each instruction.</summary>
        public int[] IlOffsets { get; }

        public int[] SlotRefs { get; }

        /// <summary>Whether the JIT will optimise the method emitted (see <see cref="MeteredIl.FitsJitOptimizer"/>).</summary>
        public bool FitsJitOptimizer => _il.FitsJitOptimizer;

        private int _slotRefs;

        public Emitter(CompiledFunction function, ModuleDefinition module, ILGenerator il, Region? region = null)
        {
            _function = function;
            _module = module;
            _il = new MeteredIl(il);
            _code = function.Code;
            _region = region;
            _slots = new LocalBuilder[function.MaxHeight];
            _read = new bool[function.MaxHeight];
            _written = new bool[function.MaxHeight];
            _labels = new Label[_code.Length + 1];
            _isTarget = new bool[_code.Length + 1];
            _heights = region?.Heights ?? new int[_code.Length + 1];
            IlOffsets = new int[_code.Length + 1];
            SlotRefs = new int[_code.Length + 1];
            Units = region is null ? new UnitRecord(_code.Length) : null;
        }

        /// <summary>Operand height on entry to each instruction after <see cref="Emit"/> (-1: dead code).</summary>
        public int[] Heights => _heights;

        /// <summary>The locals every method uses (a whole function's or a region's), and the branch targets of the code.</summary>
        private void DeclareLocals()
        {
            var il = _il;
            for (var i = 0; i < _slots.Length; i++)
            {
                _slots[i] = il.DeclareLocal(typeof(ulong));
            }

            _memory = il.DeclareLocal(typeof(byte[]));
            _memoryObject = il.DeclareLocal(typeof(WasmMemory));
            _memoryLength = il.DeclareLocal(typeof(ulong));
            _globals = il.DeclareLocal(typeof(WasmGlobal[]));
            _stack = il.DeclareLocal(typeof(ulong[]));
            _callee = il.DeclareLocal(typeof(WasmFunction));
            _calleeCode = il.DeclareLocal(typeof(CompiledFunction));
            _calleeJit = il.DeclareLocal(typeof(CompiledCode));
            _fuelTemp = il.DeclareLocal(typeof(long));
            _address = il.DeclareLocal(typeof(ulong));
            _constants = il.DeclareLocal(typeof(ulong[]));
            _reinterpretsIntegers = Array.Exists(_code, ins => ins.Op is 0xBE or 0xBF);
            FindTargets();
        }

        public void Emit()
        {
            if (_region is not null)
            {
                EmitRegion(_region);
                return;
            }

            var il = _il;
            DeclareLocals();

            // Prologue: depth, stack and interrupt checks and the entry block's fuel (instruction 0), as in Run.
            // An entry at a loop header (on-stack replacement) goes to the block emitted after the body.
            // Entry -1 is the compiler's probe (see TryCompile): return at once.
            var osr = il.DefineLabel();
            var call = il.DefineLabel();
            il.Emit(OpCodes.Ldarg_S, (byte)4);
            il.Emit(OpCodes.Brfalse, call);
            il.Emit(OpCodes.Ldarg_S, (byte)4);
            il.Emit(OpCodes.Ldc_I4_0);
            il.Emit(OpCodes.Bgt, osr);
            il.Emit(OpCodes.Ret);
            il.MarkLabel(call);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldarg_3);
            il.Emit(OpCodes.Ldc_I4, _function.MaxHeight);
            il.Emit(OpCodes.Ldc_I4, _function.EntryFuel);
            il.Emit(OpCodes.Call, s_enter);
            LoadStack();
            for (var i = 0; i < _function.ParameterCount; i++)
            {
                il.Emit(OpCodes.Ldloc, _stack);
                StackIndex(i);
                il.Emit(OpCodes.Ldelem_I8);
                Store(i);
            }

            // Declared locals start at zero: DynamicMethod zero-initialises IL locals (InitLocals), per call.
            LoadEntryState();

            Array.Fill(_heights, -1);
            _heights[1] = _function.LocalCount;
            for (var pc = 1; pc < _code.Length; pc++)
            {
                var h = _heights[pc];
                if (_isTarget[pc])
                {
                    il.MarkLabel(_labels[pc]);
                }

                if (h < 0)
                {
                    // Unreachable in validation's sense: never emitted as reachable, nothing jumps here.
                    continue;
                }

                _pc = pc;
                IlOffsets[pc] = il.ILOffset;
                SlotRefs[pc] = _slotRefs;
                Units!.Begin(pc);
                _recording = true;
                var next = EmitInstruction(ref pc, h);
                if (next >= 0)
                {
                    Flow(pc + 1, next);
                }

                _recording = false;
            }

            IlOffsets[_code.Length] = il.ILOffset;
            SlotRefs[_code.Length] = _slotRefs;

            // Every instruction ends in a jump, a return or a throw helper followed by ret: falling off is impossible,
            // but IL must not end without a terminator.
            EmitRet();
            EmitLoopEntries(osr);
            EmitTraps();
        }

        /// <summary>
        /// On-stack replacement entries: loop header k (1-based, code order; the fused form the interpreter runs has
        /// the same loop headers in the same order) continues at that header, which then does its own interrupt check
        /// and fuel charge exactly as the interpreter would have. One shared block first loads the frame's slots below
        /// the highest header's operand height from the value stack, instead of one copy per header: the IL grew with
        /// headers × slots (most of a large function's IL, and of its JIT time). The slots above header k's own height
        /// read stale values that are dead there (validation: an operand is written before it is read), and stay
        /// inside the interpreter's frame, whose value stack reaches every header's height.
        /// </summary>
        private void EmitLoopEntries(Label osr)
        {
            var il = _il;
            il.MarkLabel(osr);
            LoadEntryState();
            LoadStack();
            var headers = new List<int>();
            for (var pc = 0; pc < _code.Length; pc++)
            {
                if (_code[pc].Op == OpCode.LoopHeader)
                {
                    headers.Add(pc);
                }
                else if (_code[pc].Op == OpCode.BrTable)
                {
                    pc += _code[pc].A + 1;
                }
            }

            var reload = 0;
            foreach (var pc in headers)
            {
                reload = Math.Max(reload, _heights[pc]);
            }

            for (var slot = 0; slot < reload; slot++)
            {
                il.Emit(OpCodes.Ldloc, _stack);
                StackIndex(slot);
                il.Emit(OpCodes.Ldelem_I8);
                Store(slot);
            }

            var cases = new Label[headers.Count];
            for (var k = 0; k < cases.Length; k++)
            {
                // A dead header (height -1: the interpreter can never be there) goes to the trap below the switch.
                cases[k] = _heights[headers[k]] < 0 ? il.DefineLabel() : _labels[headers[k]];
            }

            il.Emit(OpCodes.Ldarg_S, (byte)4);
            il.Emit(OpCodes.Ldc_I4_1);
            il.Emit(OpCodes.Sub);
            il.Emit(OpCodes.Switch, cases);
            for (var k = 0; k < cases.Length; k++)
            {
                if (_heights[headers[k]] < 0)
                {
                    il.MarkLabel(cases[k]);
                }
            }

            Trap(WasmTrapKind.Unreachable);
        }

        /// <summary>Defines a label at every jump target (backward ones must exist before their jump is emitted).</summary>
        private void FindTargets()
        {
            foreach (var (start, end) in _region?.Ranges ?? [(0, _code.Length)])
            {
                FindTargets(start, end);
            }
        }

        private void FindTargets(int start, int end)
        {
            for (var pc = start; pc < end; pc++)
            {
                ref var ins = ref _code[pc];
                switch (ins.Op)
                {
                    case OpCode.Br:
                    case OpCode.BrIf:
                    case OpCode.BrUnless:
                    case OpCode.BrMove:
                    case OpCode.BrIfMove:
                        Target(ins.A);
                        break;
                    case OpCode.LoopHeader:
                        Target(pc);
                        break;
                    case OpCode.BrTable:
                        for (var k = 0; k <= ins.A; k++)
                        {
                            Target(_code[pc + 1 + k].A);
                        }

                        pc += ins.A + 1;
                        break;
                    default:
                        break;
                }
            }
        }

        private void Target(int pc)
        {
            if (_region is not null && (uint)pc < (uint)_code.Length && !_region.Contains(pc))
            {
                _exits.Add(pc);
            }

            if ((uint)pc >= (uint)_code.Length)
            {
                throw new NotSupportedException("jump target outside the function");
            }

            if (!_isTarget[pc])
            {
                _isTarget[pc] = true;
                _labels[pc] = _il.DefineLabel();
            }
        }

        /// <summary>Records that control reaches <paramref name="pc"/> with operand height <paramref name="height"/>.</summary>
        private void Flow(int pc, int height)
        {
            if (_recording)
            {
                Units!.Flow(pc);
            }

            if (_heights[pc] < 0 && pc <= _pc)
            {
                // A backward jump to code already passed as dead: cannot happen after validation, so decline.
                throw new NotSupportedException("backward jump into dead code");
            }

            if (_heights[pc] < 0)
            {
                _heights[pc] = height;
            }
            else if (_heights[pc] != height)
            {
                throw new NotSupportedException("inconsistent operand height at a join");
            }
        }

        /// <summary>Emits one instruction at operand height <paramref name="h"/>; returns the height after it, or -1 when control does not fall through.</summary>
        private int EmitInstruction(ref int pc, int h)
        {
            var il = _il;
            ref var ins = ref _code[pc];
            var op = ins.Op;
            switch (op)
            {
                case OpCode.Unreachable:
                    Trap(WasmTrapKind.Unreachable);
                    return -1;
                case OpCode.Fuel:
                    EmitCharge(ins.A);
                    return h;
                case OpCode.LoopHeader:
                {
                    // As the interpreter's loop header: the interrupt check (a volatile read), then the block's fuel.
                    il.Emit(OpCodes.Ldarg_1);
                    il.Emit(OpCodes.Volatile);
                    il.Emit(OpCodes.Ldfld, s_interruptField);
                    il.Emit(OpCodes.Brtrue, TrapLabel(WasmTrapKind.Interrupted));
                    EmitCharge(ins.A);
                    return h;
                }
                case OpCode.Br:
                    Jump(ins.A, h);
                    return -1;
                case OpCode.BrIf:
                case OpCode.BrUnless:
                    Load(h - 1);
                    il.Emit(OpCodes.Conv_U4);
                    il.Emit(op == OpCode.BrIf ? OpCodes.Brtrue : OpCodes.Brfalse, _labels[ins.A]);
                    Flow(ins.A, h - 1);
                    return h - 1;
                case OpCode.BrMove:
                    MoveAndJump(h, ins.A, ins.B);
                    return -1;
                case OpCode.BrIfMove:
                {
                    var skip = il.DefineLabel();
                    Load(h - 1);
                    il.Emit(OpCodes.Conv_U4);
                    il.Emit(OpCodes.Brfalse, skip);
                    MoveAndJump(h - 1, ins.A, ins.B);
                    il.MarkLabel(skip);
                    return h - 1;
                }

                case OpCode.BrTable:
                    EmitBrTable(pc, h);
                    pc += ins.A + 1;
                    return -1;
                case OpCode.Return:
                    EmitReturn(h);
                    return -1;
                case OpCode.Call:
                {
                    il.Emit(OpCodes.Ldarg_2);
                    il.Emit(OpCodes.Ldfld, s_functions);
                    il.Emit(OpCodes.Ldc_I4, ins.A);
                    il.Emit(OpCodes.Ldelem_Ref);
                    il.Emit(OpCodes.Stloc, _callee);
                    return EmitCall(h, TypeOfFunction(ins.A));
                }

                case OpCode.CallIndirect:
                {
                    var type = TypeAt(ins.A);
                    il.Emit(OpCodes.Ldarg_1);
                    il.Emit(OpCodes.Ldarg_2);
                    il.Emit(OpCodes.Ldc_I4, ins.A);
                    il.Emit(OpCodes.Ldc_I4, (int)ins.B);
                    Load(h - 1);
                    il.Emit(OpCodes.Call, s_resolveIndirect);
                    il.Emit(OpCodes.Stloc, _callee);
                    return EmitCall(h - 1, type);
                }

                case OpCode.Drop:
                    return h - 1;
                case OpCode.Select:
                {
                    // a b c -> c != 0 ? a : b, in slot h - 3.
                    var keep = il.DefineLabel();
                    // a stays in place on one path and is overwritten on the other: for liveness it is read, though no IL loads it.
                    Record(h - 3, store: false);
                    Load(h - 1);
                    il.Emit(OpCodes.Conv_U4);
                    il.Emit(OpCodes.Brtrue, keep);
                    Load(h - 2);
                    Store(h - 3);
                    il.MarkLabel(keep);
                    return h - 2;
                }

                case OpCode.LocalGet:
                    Load(ins.A);
                    Store(h);
                    return h + 1;
                case OpCode.LocalSet:
                    Load(h - 1);
                    Store(ins.A);
                    return h - 1;
                case OpCode.LocalTee:
                    Load(h - 1);
                    Store(ins.A);
                    return h;
                case OpCode.GlobalGet:
                    il.Emit(OpCodes.Ldloc, _globals);
                    il.Emit(OpCodes.Ldc_I4, ins.A);
                    il.Emit(OpCodes.Ldelem_Ref);
                    il.Emit(OpCodes.Ldfld, s_globalBits);
                    Store(h);
                    return h + 1;
                case OpCode.GlobalSet:
                    il.Emit(OpCodes.Ldloc, _globals);
                    il.Emit(OpCodes.Ldc_I4, ins.A);
                    il.Emit(OpCodes.Ldelem_Ref);
                    Load(h - 1);
                    il.Emit(OpCodes.Stfld, s_globalBits);
                    return h - 1;
                case OpCode.TableGet:
                    il.Emit(OpCodes.Ldarg_2);
                    il.Emit(OpCodes.Ldc_I4, ins.A);
                    Load(h - 1);
                    il.Emit(OpCodes.Call, s_tableGet);
                    Store(h - 1);
                    return h;
                case OpCode.TableSet:
                    il.Emit(OpCodes.Ldarg_2);
                    il.Emit(OpCodes.Ldc_I4, ins.A);
                    Load(h - 2);
                    Load(h - 1);
                    il.Emit(OpCodes.Call, s_tableSet);
                    return h - 2;
                case OpCode.MemorySize:
                    il.Emit(OpCodes.Ldloc, _memoryLength);
                    il.Emit(OpCodes.Ldc_I8, (long)WasmMemory.PageSize);
                    il.Emit(OpCodes.Div_Un);
                    Store(h);
                    return h + 1;
                case OpCode.MemoryGrow:
                    il.Emit(OpCodes.Ldarg_1);
                    il.Emit(OpCodes.Ldarg_2);
                    Load(h - 1);
                    il.Emit(OpCodes.Call, s_memoryGrow);
                    Store(h - 1);
                    ReloadMemory();
                    return h;
                case OpCode.Const:
                    if (ins.A == OpCode.ConstInteger && !_reinterpretsIntegers)
                    {
                        // An integer constant that no instruction here can turn into a float: a literal, so the JIT
                        // folds it (shift counts, masks, division by a constant, immediate operands).
                        il.Emit(OpCodes.Ldc_I8, ins.B);
                    }
                    else
                    {
                        // From the pool, not an IL literal: see ConstantPool for the NaN folding this avoids.
                        il.Emit(OpCodes.Ldloc, _constants);
                        il.Emit(OpCodes.Ldc_I4, ConstantPool.IndexOf((ulong)ins.B));
                        il.Emit(OpCodes.Ldelem_I8);
                    }

                    Store(h);
                    return h + 1;
                case OpCode.RefFunc:
                    il.Emit(OpCodes.Ldarg_2);
                    il.Emit(OpCodes.Ldc_I4, ins.A);
                    il.Emit(OpCodes.Call, s_functionHandle);
                    Store(h);
                    return h + 1;
                case OpCode.MemoryInit:
                case OpCode.MemoryCopy:
                case OpCode.MemoryFill:
                case OpCode.TableInit:
                case OpCode.TableCopy:
                case OpCode.TableFill:
                    return EmitBulk(ref ins, h, pops: 3, pushes: 0);
                case OpCode.DataDrop:
                case OpCode.ElemDrop:
                    return EmitBulk(ref ins, h, pops: 0, pushes: 0);
                case OpCode.TableGrow:
                    return EmitBulk(ref ins, h, pops: 2, pushes: 1);
                case OpCode.TableSize:
                    return EmitBulk(ref ins, h, pops: 0, pushes: 1);
                default:
                    return TryEmitInteger(op, ref pc, h, out var after) ? after : EmitNumericOrMemory(op, ins.B, h);
            }
        }

        private int EmitNumericOrMemory(int op, long offset, int h)
        {
            var il = _il;
            if (op is >= 0xBC and <= 0xBF)
            {
                // Reinterpretations: the slot already holds the bits.
                return h;
            }

            if (op is >= 0x28 and <= 0x3E && !BitConverter.IsLittleEndian)
            {
                // ldind/stind use the host's byte order; WebAssembly's is little-endian. Declined: the interpreter runs it.
                throw new NotSupportedException("memory accesses are compiled on a little-endian host only");
            }

            if (op is >= 0x28 and <= 0x35)
            {
                var (width, read, extend) = JitOps.LoadShapes[op - JitOps.FirstLoad];
                Load(h - 1);
                EmitAccessAddress(offset, width);
                if (width > 1)
                {
                    il.Emit(OpCodes.Unaligned, (byte)1);
                }

                il.Emit(read);
                if (extend != OpCodes.Nop)
                {
                    il.Emit(extend);
                }

                Store(h - 1);
                return h;
            }

            if (op is >= 0x36 and <= 0x3E)
            {
                var (width, write) = JitOps.StoreShapes[op - JitOps.FirstStore];
                Load(h - 2);
                EmitAccessAddress(offset, width);
                Load(h - 1);
                if (width < 8)
                {
                    il.Emit(OpCodes.Conv_U4);
                }

                if (width > 1)
                {
                    il.Emit(OpCodes.Unaligned, (byte)1);
                }

                il.Emit(write);
                return h - 2;
            }

            var method = op is >= 0 and < 0x100 ? s_numeric[op] : null;
            if (method is null)
            {
                throw new NotSupportedException($"opcode {OpCode.Name(op)} is not compiled");
            }

            if (method.GetParameters().Length == 1)
            {
                Load(h - 1);
                il.Emit(OpCodes.Call, method);
                Store(h - 1);
                return h;
            }

            Load(h - 2);
            Load(h - 1);
            il.Emit(OpCodes.Call, method);
            Store(h - 2);
            return h - 1;
        }

        /// <summary>Arguments at [h - params, h) go to the value stack at fp + that offset; results come back from there.</summary>
        private int EmitCall(int h, FunctionType type)
        {
            var il = _il;
            var parameters = type.Parameters.Length;
            var results = type.Results.Length;
            var at = h - parameters;
            if (parameters > 0)
            {
                LoadStack();
                for (var i = 0; i < parameters; i++)
                {
                    il.Emit(OpCodes.Ldloc, _stack);
                    StackIndex(at + i);
                    Load(at + i);
                    il.Emit(OpCodes.Stelem_I8);
                }
            }

            EmitCallee(at);
            if (results > 0)
            {
                LoadStack();
                for (var i = 0; i < results; i++)
                {
                    il.Emit(OpCodes.Ldloc, _stack);
                    StackIndex(at + i);
                    il.Emit(OpCodes.Ldelem_I8);
                    Store(at + i);
                }
            }

            // The callee may have grown memory (a new, larger array).
            ReloadMemory();
            return at + results;
        }

        /// <summary>
        /// The call of _callee with its frame at fp + <paramref name="at"/>: a compiled callee straight through its
        /// delegate, any other through <see cref="Interpreter.CallUncompiledFromCompiled"/>. Emitted as IL rather than
        /// as a call of an inlined helper: the same machine code, and less for the JIT to do at every call site (the
        /// inliner's work per site; 5% of the JIT's time over 200 of CPython's functions).
        /// </summary>
        private void EmitCallee(int at)
        {
            var il = _il;
            var slow = il.DefineLabel();
            var done = il.DefineLabel();
            il.Emit(OpCodes.Ldloc, _callee);
            il.Emit(OpCodes.Ldfld, s_functionCode);
            il.Emit(OpCodes.Stloc, _calleeCode);
            il.Emit(OpCodes.Ldloc, _calleeCode);
            il.Emit(OpCodes.Brfalse, slow);
            il.Emit(OpCodes.Ldloc, _calleeCode);
            il.Emit(OpCodes.Ldfld, s_codeJit);
            il.Emit(OpCodes.Stloc, _calleeJit);
            il.Emit(OpCodes.Ldloc, _calleeJit);
            il.Emit(OpCodes.Brfalse, slow);
            il.Emit(OpCodes.Ldloc, _calleeJit);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldloc, _callee);
            il.Emit(OpCodes.Ldfld, s_functionInstance);
            il.Emit(OpCodes.Ldarg_3);
            il.Emit(OpCodes.Ldc_I4, at);
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Ldc_I4_0);
            il.Emit(OpCodes.Callvirt, s_compiledInvoke);
            il.Emit(OpCodes.Br, done);
            il.MarkLabel(slow);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldloc, _callee);
            il.Emit(OpCodes.Ldarg_3);
            il.Emit(OpCodes.Ldc_I4, at);
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Ldarg_2);
            il.Emit(OpCodes.Call, s_callUncompiled);
            il.MarkLabel(done);
        }

        private void EmitReturn(int h)
        {
            var il = _il;
            var results = _function.ResultCount;
            if (results > 0)
            {
                LoadStack();
                for (var i = 0; i < results; i++)
                {
                    il.Emit(OpCodes.Ldloc, _stack);
                    StackIndex(i);
                    Load(h - results + i);
                    il.Emit(OpCodes.Stelem_I8);
                }
            }

            // The depth back down (a trap skips this: Invoke restores the depth for every frame at once).
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldfld, s_depthField);
            il.Emit(OpCodes.Ldc_I4_1);
            il.Emit(OpCodes.Sub);
            il.Emit(OpCodes.Stfld, s_depthField);
            EmitRet();
        }

        private void EmitBrTable(int pc, int h)
        {
            var il = _il;
            var count = _code[pc].A;
            var index = h - 1;

            // Entries that move no values jump straight to their target; the others go through a stub that moves first.
            var stubs = new Label[count + 1];
            var needsStub = new bool[count + 1];
            for (var k = 0; k <= count; k++)
            {
                ref var entry = ref _code[pc + 1 + k];
                var arity = (int)(entry.B >> 32);
                var destination = (int)entry.B;
                needsStub[k] = arity > 0 && index - arity != destination;
                stubs[k] = needsStub[k] ? il.DefineLabel() : _labels[entry.A];
                Flow(entry.A, destination + arity);
            }

            Load(index);
            il.Emit(OpCodes.Conv_U4);
            il.Emit(OpCodes.Switch, stubs[..count]);
            il.Emit(OpCodes.Br, stubs[count]);
            for (var k = 0; k <= count; k++)
            {
                if (needsStub[k])
                {
                    il.MarkLabel(stubs[k]);
                    ref var entry = ref _code[pc + 1 + k];
                    MoveAndJump(index, entry.A, entry.B);
                }
            }
        }

        /// <summary>Moves the top (packed &gt;&gt; 32) values down to height (int)packed, then jumps (the interpreter's MoveResults).</summary>
        private void MoveAndJump(int h, int target, long packed)
        {
            var arity = (int)(packed >> 32);
            var destination = (int)packed;
            var source = h - arity;
            if (source != destination)
            {
                for (var i = 0; i < arity; i++)
                {
                    Load(source + i);
                    Store(destination + i);
                }
            }

            Jump(target, destination + arity);
        }

        private void Jump(int target, int height)
        {
            Flow(target, height);
            _il.Emit(OpCodes.Br, _labels[target]);
        }

        /// <summary>Bulk operations run in the interpreter's helper on the value stack: spill the operands, read back the result.</summary>
        private int EmitBulk(ref Instruction ins, int h, int pops, int pushes)
        {
            var il = _il;
            if (pops > 0)
            {
                LoadStack();
                for (var i = h - pops; i < h; i++)
                {
                    il.Emit(OpCodes.Ldloc, _stack);
                    StackIndex(i);
                    Load(i);
                    il.Emit(OpCodes.Stelem_I8);
                }
            }

            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldarg_2);
            il.Emit(OpCodes.Ldc_I4, ins.Op);
            il.Emit(OpCodes.Ldc_I4, ins.A);
            il.Emit(OpCodes.Ldc_I8, ins.B);
            il.Emit(OpCodes.Ldarg_3);
            il.Emit(OpCodes.Ldc_I4, h);
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Call, s_bulk);
            var after = h - pops + pushes;
            if (pushes > 0)
            {
                LoadStack();
                il.Emit(OpCodes.Ldloc, _stack);
                StackIndex(after - 1);
                il.Emit(OpCodes.Ldelem_I8);
                Store(after - 1);
            }

            ReloadMemory();
            return after;
        }

        /// <summary>
        /// With the guest address on the IL stack: its effective address checked against the guest's memory length (a
        /// trap, as the interpreter's), then the managed address of its first byte. <c>ldelema</c> of its last byte checks
        /// the array's own bounds too, so a wrong length could never reach past the array (the span in the JitOps helpers
        /// did the same). In IL rather than a helper call: in large functions the JIT's inliner gives up, and each access
        /// stayed a call (perf: 14% of the CPython loop in <c>JitOps</c> loads and stores run as ReadyToRun code).
        /// </summary>
        private void EmitAccessAddress(long offset, int width)
        {
            var il = _il;
            il.Emit(OpCodes.Conv_U4);
            il.Emit(OpCodes.Conv_U8);
            il.Emit(OpCodes.Ldc_I8, offset);
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Stloc, _address);
            il.Emit(OpCodes.Ldloc, _address);
            il.Emit(OpCodes.Ldc_I8, (long)width);
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Ldloc, _memoryLength);
            il.Emit(OpCodes.Bgt_Un, TrapLabel(WasmTrapKind.OutOfBoundsMemoryAccess));
            il.Emit(OpCodes.Ldloc, _memory);
            il.Emit(OpCodes.Ldloc, _address);
            if (width > 1)
            {
                il.Emit(OpCodes.Ldc_I8, (long)(width - 1));
                il.Emit(OpCodes.Add);
            }

            il.Emit(OpCodes.Conv_U);
            il.Emit(OpCodes.Ldelema, typeof(byte));
            if (width > 1)
            {
                il.Emit(OpCodes.Ldc_I4, width - 1);
                il.Emit(OpCodes.Conv_U);
                il.Emit(OpCodes.Sub);
            }
        }

        private void Trap(WasmTrapKind kind)
        {
            _il.Emit(OpCodes.Ldc_I4, (int)kind);
            _il.Emit(OpCodes.Call, s_throw);
            EmitRet();
        }

        /// <summary>One trap block per kind and method, which every check of that kind branches to, emitted at the end
        /// (<see cref="EmitTraps"/>): a block and four IL instructions less per check, so less for the JIT to import and
        /// optimise (a method's JIT time follows its IL; which check trapped is not observable, only the kind).</summary>
        private readonly Dictionary<WasmTrapKind, Label> _traps = [];

        private Label TrapLabel(WasmTrapKind kind)
        {

            if (!_traps.TryGetValue(kind, out var label))
            {
                _traps[kind] = label = _il.DefineLabel();
            }

            return label;
        }

        private void EmitTraps()
        {
            foreach (var (kind, label) in _traps)
            {
                _il.MarkLabel(label);
                Trap(kind);
            }
        }

        /// <summary>ret; a region's method returns the next instruction to run, and -1 for the function's return (or after a trap, never reached).</summary>
        private void EmitRet()
        {
            if (_region is not null)
            {
                _il.Emit(OpCodes.Ldc_I4_M1);
            }

            _il.Emit(OpCodes.Ret);
        }

        private FunctionType TypeOfFunction(int index)
        {
            if ((uint)index >= (uint)_module.FunctionTypes.Count)
            {
                throw new NotSupportedException("unknown function");
            }

            return TypeAt(_module.FunctionTypes[index]);
        }

        private FunctionType TypeAt(int typeIndex)
        {
            if ((uint)typeIndex >= (uint)_module.Types.Count)
            {
                throw new NotSupportedException("unknown type");
            }

            return _module.Types[typeIndex];
        }

        private void Load(int slot)
        {
            if ((uint)slot >= (uint)_slots.Length)
            {
                throw new NotSupportedException("operand outside the frame");
            }

            _read[slot] = true;
            _slotRefs++;
            Record(slot, store: false);

            _il.Emit(OpCodes.Ldloc, _slots[slot]);
        }

        /// <summary>A load or store of <paramref name="slot"/> by the instruction being emitted, for <see cref="Liveness"/> (whole emission only).</summary>
        private void Record(int slot, bool store)
        {
            if (_recording)
            {
                Units!.Slot(slot, store);
            }
        }

        private void Store(int slot)
        {
            if ((uint)slot >= (uint)_slots.Length)
            {
                throw new NotSupportedException("operand outside the frame");
            }

            _written[slot] = true;
            _slotRefs++;
            Record(slot, store: true);

            _il.Emit(OpCodes.Stloc, _slots[slot]);
        }

        private void LoadStack()
        {
            _il.Emit(OpCodes.Ldarg_1);
            _il.Emit(OpCodes.Ldfld, s_stackField);
            _il.Emit(OpCodes.Stloc, _stack);
        }

        /// <summary>Pushes fp + <paramref name="slot"/>, an index into the value stack.</summary>
        private void StackIndex(int slot)
        {
            _il.Emit(OpCodes.Ldarg_3);
            _il.Emit(OpCodes.Ldc_I4, slot);
            _il.Emit(OpCodes.Add);
        }

        /// <summary>What both entries (call and on-stack replacement) read once: memory, globals and the constant pool.</summary>
        private void LoadEntryState()
        {
            ReloadMemory();
            _il.Emit(OpCodes.Ldarg_2);
            _il.Emit(OpCodes.Ldfld, s_globals);
            _il.Emit(OpCodes.Stloc, _globals);

            // The pool as it is now holds every index this body uses (they were added while emitting, before it can
            // run); a later, grown pool is a copy with the same values, so one read per entry is enough.
            _il.Emit(OpCodes.Ldsfld, s_constants);
            _il.Emit(OpCodes.Stloc, _constants);
        }

        /// <summary>Memory 0's array and guest-visible length (re-read after anything that may grow it), or an empty array and 0.</summary>
        private void ReloadMemory()
        {
            var il = _il;
            il.Emit(OpCodes.Ldarg_2);
            il.Emit(OpCodes.Ldfld, s_memory0);
            il.Emit(OpCodes.Stloc, _memoryObject);

            // Every instance of a module with a memory has memory 0 (the count includes imports): no null case, two blocks
            // less at every call site.
            var hasMemory = _module.Memories.Count > 0;
            var none = il.DefineLabel();
            var done = il.DefineLabel();
            if (!hasMemory)
            {
                il.Emit(OpCodes.Ldloc, _memoryObject);
                il.Emit(OpCodes.Brfalse, none);
            }

            il.Emit(OpCodes.Ldloc, _memoryObject);
            il.Emit(OpCodes.Ldfld, s_memoryBufferField);
            il.Emit(OpCodes.Stloc, _memory);
            il.Emit(OpCodes.Ldloc, _memoryObject);
            il.Emit(OpCodes.Ldfld, s_memoryByteLength);
            il.Emit(OpCodes.Conv_I8);
            il.Emit(OpCodes.Stloc, _memoryLength);
            if (hasMemory)
            {
                return;
            }

            il.Emit(OpCodes.Br, done);
            il.MarkLabel(none);
            il.Emit(OpCodes.Call, s_emptyBytes);
            il.Emit(OpCodes.Stloc, _memory);
            il.Emit(OpCodes.Ldc_I4_0);
            il.Emit(OpCodes.Conv_I8);
            il.Emit(OpCodes.Stloc, _memoryLength);
            il.MarkLabel(done);
        }
    }
}
