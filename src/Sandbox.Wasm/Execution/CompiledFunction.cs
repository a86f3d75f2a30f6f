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

    /// <summary>The IL compiler declined this function: it stays interpreted.</summary>
    public bool CompileRefused;
}
