namespace Sandbox.Wasm.Execution;

/// <summary>One interpreted frame of a captured call stack: a function of the instance by index, where it resumes, its frame base.</summary>
internal readonly record struct FrameState(int Function, int Pc, int Fp);

/// <summary>
/// A guest's call state inside a host call made from interpreted code: the frames from the outermost (depth 1) to the
/// one that made the call, the host function it called (an import, by index) and the value stack up to and including
/// the call's arguments. Resuming makes the host call again, so the host's own side effects happen in the new process.
/// </summary>
internal sealed record ExecutionState(FrameState[] Frames, int Callee, int CalleeFp, ulong[] Stack);

internal sealed partial class Interpreter
{
    /// <summary>The host function being called now and its frame base (null when none); its caller is at _callFrames[_depth].</summary>
    private WasmFunction? _hostCallee;
    private int _hostCalleeFp;

    /// <summary>Top-level invocations on the host stack: a snapshot needs exactly one, with no host frame re-entering the guest.</summary>
    private int _invokeNesting;

    /// <summary>
    /// Whether hot functions move to the IL tier. Off while a guest pre-initialises for a snapshot: compiled frames live on
    /// the host stack, where no snapshot can reach them, so every frame must stay interpreted until the capture.
    /// </summary>
    internal bool CompileEnabled
    {
        get => _compileEnabled;
        set => _compileEnabled = value && _engine.Options.UseCompiler;
    }

    /// <summary>
    /// The call state of the host call in progress, with functions named by their index in <paramref name="instance"/>;
    /// null (and why) when it cannot be captured: not inside a host call from the dispatch loop, nested invocations,
    /// the IL tier on, or a frame of another instance.
    /// </summary>
    internal ExecutionState? CaptureExecution(WasmInstance instance, out string? why)
    {
        // With the IL tier off and one invocation, a host call at depth 1 or more comes from the dispatch loop, which saved
        // its caller at _callFrames[_depth] (a top-level call of a host function is at depth 0).
        var callee = _hostCallee;
        why = callee is null || _depth < 1 ? "not inside a host call from interpreted code"
            : _invokeNesting != 1 ? "the guest was entered more than once on the host stack"
            : _compileEnabled ? "the IL tier is on (compiled frames cannot be captured)"
            : null;
        if (why is not null)
        {
            return null;
        }

        var indexes = new Dictionary<WasmFunction, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < instance.Functions.Length; i++)
        {
            indexes.TryAdd(instance.Functions[i], i);
        }

        var frames = new FrameState[_depth];
        for (var depth = 1; depth <= _depth; depth++)
        {
            var frame = _callFrames[depth];
            if (!indexes.TryGetValue(frame.Function, out var index))
            {
                why = "a frame belongs to another instance";
                return null;
            }

            frames[depth - 1] = new FrameState(index, frame.Pc, frame.Fp);
        }

        if (!indexes.TryGetValue(callee!, out var calleeIndex))
        {
            why = "the host function is not an import of the instance";
            return null;
        }

        return new ExecutionState(frames, calleeIndex, _hostCalleeFp, _stack.AsSpan(0, _hostCalleeFp + callee!.ParameterCount).ToArray());
    }

    /// <summary>
    /// Continues a captured call state in <paramref name="instance"/> (whose memory, globals and tables the caller has
    /// restored): the interrupted host call is made again, then the dispatch loop resumes its caller. Refuses, before
    /// running anything, a state that does not fit the instance (<see cref="InvalidDataException"/>).
    /// </summary>
    internal void Resume(WasmInstance instance, ExecutionState state)
    {
        if (_invokeNesting != 0 || _depth != 0)
        {
            throw new InvalidOperationException("resume needs an idle engine");
        }

        var (frames, callee) = Check(instance, state);
        EnsureStack(state.Stack.Length + Math.Max(callee.ParameterCount, callee.ResultCount));
        state.Stack.CopyTo(_stack, 0);
        while (_callFrames.Length <= frames.Length)
        {
            GrowCallFrames();
        }

        for (var depth = 1; depth <= frames.Length; depth++)
        {
            _callFrames[depth] = frames[depth - 1];
        }

        var current = frames[^1];
        _top = 0;
        _depth = frames.Length;
        EnterHost();
        try
        {
            CallHost(callee, state.CalleeFp, instance);
            _resume = (state, current.Pc, state.CalleeFp + callee.ResultCount, frames.Length);
            Run(current.Function, current.Fp);
        }
        finally
        {
            _top = 0;
            _depth = 0;
            _invokeNesting--;
        }
    }

    /// <summary>Where the next Run continues a restored frame stack instead of entering its function (set by Resume only).</summary>
    private (ExecutionState State, int Pc, int Sp, int Depth)? _resume;

    /// <summary>
    /// Undoes what Run's ordinary entry did to the frame it resumes (one more depth, zeroed locals) and says where it
    /// continues: the outermost frame (depth 1) ends the loop, as a fresh top-level call's would.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private (int EntryDepth, int Sp, int Pc) TakeResumePoint(int fp)
    {
        var (state, pc, sp, depth) = _resume!.Value;
        _resume = null;
        _depth = depth;
        // The frame's locals and operands below the host call (the call's results, already written, stay).
        state.Stack.AsSpan(fp, state.CalleeFp - fp).CopyTo(_stack.AsSpan(fp));
        return (1, sp, pc);
    }

    /// <summary>
    /// A lazily translated function's first call: its frame so far holds the parameters alone. Translates it (validating
    /// it), then enters it as a call would have: room, zeroed locals, entry fuel. Returns the frame's stack pointer.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private int EnterTranslated(CompiledFunction compiled, int fp)
    {
        compiled.EnsureTranslated();
        EnsureStack(fp + compiled.MaxHeight);
        Array.Clear(_stack, fp + compiled.ParameterCount, compiled.LocalCount - compiled.ParameterCount);
        ChargeEntry(compiled.EntryFuel);
        return fp + compiled.LocalCount;
    }

    /// <summary>Every index, position and frame base within the instance and the engine's caps; each frame stopped right after a call.</summary>
    private (CallFrame[] Frames, WasmFunction Callee) Check(WasmInstance instance, ExecutionState state)
    {
        var functions = instance.Functions;
        if (state.Frames.Length is 0 || state.Frames.Length > _maxDepth || state.Stack.Length > _stackCap - 1024
            || (uint)state.Callee >= (uint)functions.Length || functions[state.Callee].Code is not null)
        {
            throw new InvalidDataException("the call state does not fit the instance (depth, stack or host function)");
        }

        var callee = functions[state.Callee];
        if (state.CalleeFp < 0 || state.CalleeFp + callee.ParameterCount != state.Stack.Length)
        {
            throw new InvalidDataException("the call state's arguments do not end its value stack");
        }

        var frames = new CallFrame[state.Frames.Length];
        var lastFp = 0;
        for (var i = 0; i < frames.Length; i++)
        {
            var (index, pc, fp) = state.Frames[i];
            if ((uint)index < (uint)functions.Length)
            {
                // A lazily translated module (the worker's) translates, and so validates, each frame's function first.
                functions[index].Code?.EnsureTranslated();
            }

            if ((uint)index >= (uint)functions.Length || functions[index] is not { Code: { } code } function || function.Instance != instance
                || pc < 1 || pc >= code.Code.Length || code.Code[pc - 1].Op is not (OpCode.Call or OpCode.CallIndirect)
                || fp < lastFp || fp > state.CalleeFp)
            {
                throw new InvalidDataException($"frame {i} of the call state does not fit the instance");
            }

            frames[i] = new CallFrame { Function = function, Pc = pc, Fp = fp };
            lastFp = fp;
        }

        return (frames, callee);
    }
}
