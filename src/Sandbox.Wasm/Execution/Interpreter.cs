using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Sandbox.Wasm.Execution;

/// <summary>
/// Executes the internal form. One value stack of ulong slots holds every frame (parameters, locals,
/// operands) back to back: a call passes arguments in place and the callee leaves results where its
/// arguments began, so calls copy nothing. Guest-to-guest calls stay inside one dispatch loop (an explicit
/// frame stack), so guest recursion never deepens the host stack; only host functions that re-enter the
/// guest do, and the periodic <see cref="RuntimeHelpers.TryEnsureSufficientExecutionStack"/> probe turns
/// that into a "call stack exhausted" trap rather than a host crash, like the depth limit and the
/// value-stack bound checked once per call.
/// </summary>
internal sealed partial class Interpreter
{
    private readonly WasmEngine _engine;
    private readonly int _stackCap;

    /// <summary>The value stack. It starts small and doubles on demand up to ValueStackSlots, so an engine
    /// costs little until a guest actually recurses deeply; the dispatch loop re-reads it after calls.</summary>
    private ulong[] _stack;
    private readonly int _maxDepth;
    private bool _compileEnabled;
    private readonly int _compileThreshold;
    private readonly int _compileMaxInstructions;
    private readonly int _compileMaxWork;
    private readonly int _compileRegionIlBytes;
    private readonly int _compileLoopThreshold;
    private readonly int _compileFuelThreshold;
    private readonly WasmCallContext _context;
    private int _depth;

    /// <summary>Saved caller positions of guest-to-guest calls, indexed by the caller's depth.</summary>
    private CallFrame[] _callFrames = new CallFrame[256];

    /// <summary>First free slot for a new top-level invocation (above any host frame that re-enters).</summary>
    private int _top;

    public Interpreter(WasmEngine engine)
    {
        _engine = engine;
        _stackCap = Math.Max(1024, engine.Options.ValueStackSlots);
        _stack = new ulong[Math.Min(_stackCap, 1 << 14)];
        _maxDepth = engine.Options.MaxCallDepth;
        _compileEnabled = engine.Options.UseCompiler;
        _compileThreshold = engine.Options.CompileThreshold;
        _compileMaxInstructions = engine.Options.CompileMaxInstructions;
        _compileMaxWork = engine.Options.CompileMaxWork;
        _compileRegionIlBytes = engine.Options.CompileRegionIlBytes;
        _compileLoopThreshold = engine.Options.CompileLoopThreshold;
        _compileFuelThreshold = engine.Options.CompileFuelThreshold;
        _context = new WasmCallContext(engine);
    }

    /// <summary>Remaining fuel (a field: the dispatch loop reads and writes it once per basic block).</summary>
    public long Fuel = long.MaxValue;

    /// <summary>Set from any thread; read by the guest at calls and loop headers.</summary>
    public bool InterruptRequested
    {
        get => Volatile.Read(ref _interruptRequested);
        set => Volatile.Write(ref _interruptRequested, value);
    }

    private bool _interruptRequested;

    /// <summary>
    /// The lowest host stack address (its offset from null) at which <see cref="RuntimeHelpers.TryEnsureSufficientExecutionStack"/>
    /// said yes since the guest was entered from the host: compiled entries above it need not ask again (the probe only
    /// compares the stack pointer with the thread's limit). Reset at every entry from the host, which may be on another thread.
    /// </summary>
    internal nint _probedHostStack = nint.MaxValue;

    /// <summary>An entry into the guest from the host (<see cref="Invoke"/> or a snapshot's resume).</summary>
    private void EnterHost()
    {
        if (_invokeNesting == 0)
        {
            _probedHostStack = nint.MaxValue;
        }

        _invokeNesting++;
    }

    /// <summary>Runs <paramref name="function"/> with arguments in <paramref name="io"/>; results are written back to it.</summary>
    public void Invoke(WasmFunction function, Span<ulong> io)
    {
        // Guest-to-guest calls do not use the host stack, but a host function that calls back into the
        // guest does: make sure each such nesting level still has room, or trap instead of crashing.
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            Throw(WasmTrapKind.CallStackExhausted);
        }

        var savedTop = _top;
        var savedDepth = _depth;
        var fp = _top;
        EnsureStack(fp + io.Length);

        io[..function.ParameterCount].CopyTo(_stack.AsSpan(fp));
        EnterHost();
        try
        {
            Call(function, fp);
            _stack.AsSpan(fp, function.ResultCount).CopyTo(io);
        }
        finally
        {
            // A trap unwinds every guest frame at once (there is no guest exception handling), so the
            // depth and top of stack are restored here rather than in each frame.
            _top = savedTop;
            _depth = savedDepth;
            _invokeNesting--;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Call(WasmFunction function, int fp, WasmInstance? caller = null)
    {
        if (function.Code is not null)
        {
            if (!_compileEnabled || !TryRunCompiled(function, fp))
            {
                Run(function, fp);
            }
        }
        else
        {
            CallHost(function, fp, caller);
        }
    }

    private void CallHost(WasmFunction function, int fp, WasmInstance? caller)
    {
        var slots = Math.Max(function.ParameterCount, function.ResultCount);
        EnsureStack(fp + slots);

        var savedTop = _top;
        var savedCaller = _context.Caller;
        _top = fp + slots;
        _context.Caller = caller;
        _hostCallee = function;
        _hostCalleeFp = fp;
        try
        {
            function.Host!(_context, _stack.AsSpan(fp, slots));
        }
        finally
        {
            _top = savedTop;
            _context.Caller = savedCaller;
            _hostCallee = null;
        }
    }

    private void EnterFrame(int fp, int maxHeight)
    {
        if (++_depth > _maxDepth)
        {
            Throw(WasmTrapKind.CallStackExhausted);
        }

        if (fp + maxHeight > _stack.Length)
        {
            EnsureStack(fp + maxHeight);
        }

        if (Volatile.Read(ref _interruptRequested))
        {
            Throw(WasmTrapKind.Interrupted);
        }
    }

    /// <summary>Makes the value stack at least <paramref name="slots"/> long, or traps past the cap.</summary>
    // Not inlined: a cold path, and every compiled function's prologue calls it (the JIT's inlining attempts cost time).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnsureStack(int slots)
    {
        if (slots <= _stack.Length)
        {
            return;
        }

        if (slots > _stackCap || slots < 0)
        {
            Throw(WasmTrapKind.CallStackExhausted);
        }

        var length = (int)Math.Min(_stackCap, Math.Max((long)slots, (long)_stack.Length * 2));
        Array.Resize(ref _stack, length);
    }

    private void ChargeEntry(int amount)
    {
        Fuel -= amount;
        if (Fuel < 0)
        {
            Throw(WasmTrapKind.OutOfFuel);
        }
    }

    /// <summary>
    /// Makes room for the caller saved at <c>_callFrames[_depth]</c>. Compiled code counts its calls in <c>_depth</c> without
    /// saving frames here, so the depth can be past twice the length when an interpreted frame next saves one.
    /// </summary>
    private void GrowCallFrames() => Array.Resize(ref _callFrames, Math.Max(_callFrames.Length * 2, _depth + 1));

    // Not NoInlining, unlike ThrowOutOfBounds: the JIT only learns that a call never returns by looking at the callee's
    // body (a bare throw, which it then declines to inline). Known as no-return, every trap check in IL-tier code becomes
    // a cold throw block, so nothing is spilled around it: sha256's hot function went from a 728- to a 56-byte frame.
    [DoesNotReturn]
    internal static void Throw(WasmTrapKind kind) => throw new WasmTrapException(kind);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOutOfBounds() => throw new WasmTrapException(WasmTrapKind.OutOfBoundsMemoryAccess);
}
