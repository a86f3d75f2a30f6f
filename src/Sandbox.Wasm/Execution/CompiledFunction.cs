using Sandbox.Wasm.Decoding;

namespace Sandbox.Wasm.Execution;

/// <summary>
/// A validated function body in the internal form. Frame layout on the value stack: parameters, then
/// declared locals (zeroed on entry), then operands; <see cref="MaxHeight"/> bounds the whole frame so
/// the stack-space check happens once per call instead of once per push.
/// </summary>
internal sealed class CompiledFunction
{
    // Fields rather than properties: the dispatch loop is too large for the JIT to inline getters.
    public required Instruction[] Code;

    public required int ParameterCount;

    /// <summary>Parameters plus declared locals.</summary>
    public required int LocalCount;

    public required int ResultCount;

    /// <summary>Largest number of slots the frame uses (locals plus deepest operand stack).</summary>
    public required int MaxHeight;

    /// <summary>Fuel of the entry basic block (instruction 0 is its Fuel op): charged by the call itself.</summary>
    public required int EntryFuel;

    /// <summary>Function types by function index, for the IL compiler (null when not translated from a module).</summary>
    public ModuleDefinition? Module;

    /// <summary>Re-translates this body without fused instructions, the form the IL compiler reads (null: <see cref="Code"/> is already unfused).</summary>
    public Func<CompiledFunction>? Unfused;

    /// <summary>The IL-tier body once compiled. Shared by every instance (and engine) using the module: it holds no state.</summary>
    public CompiledCode? Jit;

    /// <summary>Calls counted towards the compile threshold (a heuristic: a race between engines only shifts when it compiles).</summary>
    public int Calls;

    /// <summary>Loop back-edges (loop-header entries) the interpreter ran in this function: a long loop in a function
    /// called once is compiled too, and entered mid-loop.</summary>
    public int BackEdges;

    /// <summary>Fuel this function burned in its own body while interpreted (its callees' not counted), summed over
    /// its calls: a small function that does a lot of work per call is compiled long before it is called
    /// <see cref="WasmEngineOptions.CompileThreshold"/> times.</summary>
    public long Work;

    /// <summary>This function's compile cost in units of fuel threshold (see Interpreter.WorkedEnough); 0 until first needed.</summary>
    public long CompileCost;

    /// <summary>The IL compiler declined this function: it stays interpreted.</summary>
    public bool CompileRefused;

    /// <summary>Validates and translates the body, for a function still waiting for its first call (<see cref="Lazy"/>); null once translated.</summary>
    public Func<CompiledFunction>? Pending;

    /// <summary>
    /// A function whose body is validated and translated on its first call: a frame of its parameters alone whose one
    /// instruction, <see cref="OpCode.Translate"/>, makes it the real function and restarts the frame as its entry.
    /// </summary>
    public static CompiledFunction Lazy(int parameterCount, int resultCount, Func<CompiledFunction> translate) => new()
    {
        Code = [new Instruction(OpCode.Fuel, 0, 0), new Instruction(OpCode.Translate, 0, 0)],
        ParameterCount = parameterCount,
        LocalCount = parameterCount,
        ResultCount = resultCount,
        MaxHeight = parameterCount,
        EntryFuel = 0,
        Pending = translate,
    };

    /// <summary>Translates a <see cref="Lazy"/> body now (once), taking the real function's form in place.</summary>
    /// <exception cref="Sandbox.Wasm.WasmValidationException">The body does not validate.</exception>
    public void EnsureTranslated()
    {
        if (Pending is not { } translate)
        {
            return;
        }

        var real = translate();
        Module = real.Module;
        Unfused = real.Unfused;
        LocalCount = real.LocalCount;
        MaxHeight = real.MaxHeight;
        EntryFuel = real.EntryFuel;
        Code = real.Code;
        Pending = null;
    }
}
