using System.Runtime.CompilerServices;

namespace Sandbox.Wasm.Execution;

/// <remarks>
/// The seam between the interpreter and the IL tier. Compiled functions keep every guarantee of the interpreter
/// by calling these helpers: the same call-depth count and value-stack bound at entry, a host-stack probe (a
/// compiled guest-to-guest call does use the host stack, unlike the interpreter's), the interrupt check at entry
/// and at loop headers, and fuel charged per basic block with the interpreter's amounts, so the same program with
/// the same fuel stops at the same instruction in either tier. Small helpers are inlined into the compiled code.
/// </remarks>
internal sealed partial class Interpreter
{
    /// <summary>Functions compiled to IL so far by this engine (tests check the IL tier really ran).</summary>
    internal int CompiledFunctionCount;

    /// <summary>Functions the IL compiler declined (they stay interpreted).</summary>
    internal int CompileFallbackCount;

    /// <summary>Compiled functions split into several methods (<see cref="RegionedCode"/>), counted in <see cref="CompiledFunctionCount"/> too.</summary>
    internal int SplitFunctionCount;

    /// <summary>Region methods made for the functions counted in <see cref="SplitFunctionCount"/>.</summary>
    internal int SplitRegionCount;

    /// <summary>Dispatch blocks copied into the regions of split functions (see IlCompiler.DispatchBlockEnd).</summary>
    internal int DispatchCopyCount;

    /// <summary>Return blocks copied into the regions of split functions (see IlCompiler.ReturnBlockEnd).</summary>
    internal int ReturnCopyCount;

    /// <summary>
    /// Runs <paramref name="callee"/> (a guest function) in the IL tier if it is compiled or due to be compiled;
    /// false means the caller must interpret it. Compilation happens on this thread, between two calls, so it
    /// changes no guest-visible state.
    /// </summary>
    private bool TryRunCompiled(WasmFunction callee, int fp)
    {
        var code = callee.Code!;
        var jit = code.Jit;
        if (jit is null)
        {
            // Most calls of an uncompiled function are far under both thresholds: say no here, without the scaled threshold's
            // division or the work rule's calls (both are false below the plain thresholds). 2.3% of `print(1+1)` in perf.
            var calls = ++code.Calls;
            if (calls < _compileThreshold && code.Work < _compileFuelThreshold)
            {
                return false;
            }

            if (code.CompileRefused || !(HotEnough(code, calls, _compileThreshold) || WorkedEnough(code)) || (jit = Compile(code)) is null)
            {
                return false;
            }
        }

        return TryRunCompiled(code, jit, callee.Instance!, fp, 0);
    }

    /// <summary>
    /// Called at a loop header of an interpreted frame that has looped long enough: compiles the function if needed
    /// and runs the rest of this frame compiled from that header on (on-stack replacement). True means the frame
    /// has returned: its results are at fp and the depth already decremented.
    /// </summary>
    private bool TryEnterCompiledAtLoop(WasmFunction function, int fp, int loopPc)
    {
        var code = function.Code!;
        if (code.Jit is null && !HotEnough(code, code.BackEdges, _compileLoopThreshold))
        {
            return false;
        }

        var jit = code.Jit ?? (code.CompileRefused ? null : Compile(code));
        if (jit is null)
        {
            return false;
        }

        // The k-th loop header of the fused form is the k-th of the plain form the compiler read.
        var ordinal = 0;
        for (var pc = 0; pc <= loopPc; pc++)
        {
            if (code.Code[pc].Op == OpCode.LoopHeader)
            {
                ordinal++;
            }
            else if (code.Code[pc].Op == OpCode.BrTable)
            {
                pc += code.Code[pc].A + 1;
            }
        }

        return TryRunCompiled(code, jit, function.Instance!, fp, ordinal);
    }

    /// <summary>Instructions per unit of the JIT's cost in <see cref="HotEnough"/>: about one region of a split function.</summary>
    private const int CompileCostInstructions = 2_000;

    /// <summary>
    /// Whether <paramref name="count"/> (calls, or loop iterations) reached <paramref name="threshold"/> times the
    /// function's compile cost in units of <see cref="CompileCostInstructions"/>: the JIT's time grows with the size
    /// (a split function costs about one function of that size per region), so a function of 15,000 instructions
    /// (CPython's eval loop) waits for 7× the iterations. Measured: CPython's start-up alone runs its eval loop's
    /// loops about 250,000 times, and at the unscaled 200,000 every cold python-wasm run compiled it (about 2 s of
    /// JIT per process, more than the whole run) before its first line of output.
    /// </summary>
    private static bool HotEnough(CompiledFunction code, int count, int threshold) =>
        count >= (long)threshold * Math.Max(1, code.Code.Length / CompileCostInstructions);

    /// <summary>
    /// Whether <paramref name="code"/> burned enough fuel in its own body while interpreted to pay for its compile:
    /// <see cref="WasmEngineOptions.CompileFuelThreshold"/> per <see cref="CompileFuelUnit"/> units of
    /// <see cref="IlCompiler.Work"/> (the measure the JIT's time follows), plus one. Counting time rather than calls
    /// compiles a small function that runs long per call (CPython's: thousands of calls a run, tens of µs each) without
    /// compiling the thousands that start-up calls a few thousand times each for a few instructions. It also bounds what
    /// a module can make the JIT do: each compile is paid for by interpreted work in proportion to its cost, and fuel
    /// bounds the interpreted work. Only for functions of up to <see cref="CompileCostInstructions"/>: a larger one is
    /// split into regions whose JIT costs more than its interpreted time in a short run (CPython's eval loop burns 81 M
    /// fuel in start-up and `print(1+1)`, and compiled by this rule it added 0.7 s of CPU to every cold run), so it
    /// waits for the size-scaled call and loop counts of <see cref="HotEnough"/>.
    /// </summary>
    private bool WorkedEnough(CompiledFunction code)
    {
        if (code.Work < _compileFuelThreshold || code.Pending is not null || code.Code.Length > CompileCostInstructions)
        {
            return false;
        }

        if (code.CompileCost == 0)
        {
            code.CompileCost = 1 + (IlCompiler.Work(code) / CompileFuelUnit);
        }

        return code.Work >= _compileFuelThreshold * code.CompileCost;
    }

    /// <summary>Units of <see cref="IlCompiler.Work"/> per <see cref="WasmEngineOptions.CompileFuelThreshold"/> of fuel.</summary>
    private const int CompileFuelUnit = 64;

    private CompiledCode? Compile(CompiledFunction code)
    {
        code.EnsureTranslated();
        var jit = IlCompiler.TryCompile(code, _compileMaxInstructions, _compileMaxWork, _compileRegionIlBytes);
        if (jit is null)
        {
            code.CompileRefused = true;
            CompileFallbackCount++;
            return null;
        }

        CompiledFunctionCount++;
        if (jit.Target is RegionedCode regioned)
        {
            SplitFunctionCount++;
            SplitRegionCount += regioned.Regions;
            DispatchCopyCount += regioned.DispatchCopies;
            ReturnCopyCount += regioned.ReturnCopies;
        }

        Interlocked.CompareExchange(ref code.Jit, jit, null);
        return code.Jit;
    }

    private bool TryRunCompiled(CompiledFunction code, CompiledCode jit, WasmInstance instance, int fp, int entryLoop)
    {
        // No InvalidProgramException to catch here: IlCompiler had the JIT compile the method (a probe call) before
        // handing it out, and declined the function if the JIT rejected it.
        jit(this, instance, fp, entryLoop);
        return true;
    }

    /// <summary>Call from compiled code to a function that is not compiled (yet): a host function, one due to be compiled
    /// now, or one the interpreter runs. Compiled to compiled, the commonest call in hot code, goes straight through the
    /// callee's delegate in the caller's IL (IlCompiler.EmitCallee). Not inlined, like every helper the IL tier calls
    /// out of line: the JIT would otherwise weigh inlining it at every call site and give up, which cost 12% of its time
    /// over 200 of CPython's functions (in-process A/B of the same IL).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void CallUncompiledFromCompiled(Interpreter runtime, WasmFunction callee, int fp, WasmInstance caller)
    {
        if (callee.Code is null)
        {
            runtime.CallHost(callee, fp, caller);
        }
        else if (!runtime.TryRunCompiled(callee, fp))
        {
            runtime.Run(callee, fp);
        }
    }

    /// <summary>Prologue of a compiled function: the interpreter's EnterFrame plus a host-stack probe, then the entry block's fuel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void EnterCompiled(Interpreter runtime, int fp, int maxHeight, int entryFuel)
    {
        if (++runtime._depth > runtime._maxDepth)
        {
            Throw(WasmTrapKind.CallStackExhausted);
        }

        // Compiled guest calls nest on the host stack: trap while there is still room rather than overflow. The runtime's
        // probe (TryEnsureSufficientExecutionStack: is the stack pointer above this thread's limit?) is asked only below
        // the lowest address it already passed at in this entry from the host: above it, its answer is the same yes.
        byte marker = 0;
        var stackAddress = Unsafe.ByteOffset(ref Unsafe.NullRef<byte>(), ref marker);
        if (stackAddress < runtime._probedHostStack)
        {
            ProbeHostStack(runtime, stackAddress);
        }

        if (fp + maxHeight > runtime._stack.Length)
        {
            runtime.EnsureStack(fp + maxHeight);
        }

        if (Volatile.Read(ref runtime._interruptRequested))
        {
            Throw(WasmTrapKind.Interrupted);
        }

        runtime.ChargeEntry(entryFuel);
    }

    /// <summary>The runtime's host-stack probe at a new low <paramref name="at"/>: a trap when the stack is nearly used up, else remembered.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ProbeHostStack(Interpreter runtime, nint at)
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            Throw(WasmTrapKind.CallStackExhausted);
        }

        runtime._probedHostStack = at;
    }

    /// <summary>Prologue of a function split into regions (<see cref="RegionedCode"/>): EnterCompiled, and the declared
    /// locals zeroed in the value stack, where the regions read them (a whole compiled method zeroes its IL locals).</summary>
    internal static void EnterRegions(Interpreter runtime, int fp, CompiledFunction function)
    {
        EnterCompiled(runtime, fp, function.MaxHeight, function.EntryFuel);
        Array.Clear(runtime._stack, fp + function.ParameterCount, function.LocalCount - function.ParameterCount);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ChargeBlock(Interpreter runtime, long amount)
    {
        var fuel = runtime.Fuel - amount;
        runtime.Fuel = fuel;
        if (fuel < 0)
        {
            Throw(WasmTrapKind.OutOfFuel);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static WasmFunction ResolveIndirect(Interpreter runtime, WasmInstance instance, int typeIndex, int tableIndex, ulong slot)
    {
        var table = instance.Tables[tableIndex];
        var index = (uint)slot;
        if (index >= (uint)table.Length)
        {
            Throw(WasmTrapKind.UndefinedElement);
        }

        var handle = table.Elements[index];
        if (handle == 0)
        {
            Throw(WasmTrapKind.UninitializedElement);
        }

        var callee = runtime._engine.FunctionsByHandle[(int)handle - 1];
        if (callee.TypeId != instance.TypeIds[typeIndex])
        {
            Throw(WasmTrapKind.IndirectCallTypeMismatch);
        }

        return callee;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static ulong TableGetFromCompiled(WasmInstance instance, int tableIndex, ulong slot)
    {
        var table = instance.Tables[tableIndex];
        var index = (uint)slot;
        if (index >= (uint)table.Length)
        {
            Throw(WasmTrapKind.OutOfBoundsTableAccess);
        }

        return table.Elements[index];
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void TableSetFromCompiled(WasmInstance instance, int tableIndex, ulong slot, ulong value)
    {
        var table = instance.Tables[tableIndex];
        var index = (uint)slot;
        if (index >= (uint)table.Length)
        {
            Throw(WasmTrapKind.OutOfBoundsTableAccess);
        }

        table.Elements[index] = value;
    }

    /// <summary>memory.grow with the interpreter's fuel rule (1,024 units per page actually added).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static ulong MemoryGrowFromCompiled(Interpreter runtime, WasmInstance instance, ulong slot)
    {
        var delta = (uint)slot;
        var old = instance.Memory0!.Grow(delta);
        if (old >= 0)
        {
            runtime.Fuel -= (long)delta << 10;
            if (runtime.Fuel < 0)
            {
                Throw(WasmTrapKind.OutOfFuel);
            }
        }

        return (uint)old;
    }

    /// <summary>Bulk memory and table operations: the compiled code spills their operands to the value stack at <paramref name="sp"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void BulkFromCompiled(Interpreter runtime, WasmInstance instance, int op, int a, long b, int sp)
    {
        var ins = new Instruction(op, a, b);
        runtime.ExecuteBulk(instance, ref ins, sp);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong FunctionHandle(WasmInstance instance, int index) => instance.Functions[index].Handle;
}
