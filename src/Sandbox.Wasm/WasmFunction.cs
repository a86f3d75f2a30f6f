using Sandbox.Wasm.Decoding;
using Sandbox.Wasm.Execution;

namespace Sandbox.Wasm;

/// <summary>A function instance: either a guest function of some instance, or a host function.</summary>
public sealed class WasmFunction : WasmExtern
{
    internal WasmFunction(WasmEngine engine, FunctionType type, WasmInstance? instance, CompiledFunction? code, WasmHostFunction? host)
        : this(engine, type, engine.CanonicalTypeId(type), instance, code, host)
    {
    }

    /// <summary>A function whose engine-wide type id is already known (an instance's functions: one lookup per type, not per function).</summary>
    internal WasmFunction(WasmEngine engine, FunctionType type, int typeId, WasmInstance? instance, CompiledFunction? code, WasmHostFunction? host)
    {
        Engine = engine;
        Type = type;
        TypeId = typeId;
        Instance = instance;
        Code = code;
        Host = host;
        ParameterCount = type.Parameters.Length;
        ResultCount = type.Results.Length;
        Handle = engine.RegisterFunction(this);
    }

    public override WasmExternKind Kind => WasmExternKind.Function;

    public IReadOnlyList<WasmValueType> Parameters => Type.Parameters;

    public IReadOnlyList<WasmValueType> Results => Type.Results;

    // Fields rather than properties: the dispatch loop is too large for the JIT to inline getters.
    internal readonly WasmEngine Engine;

    internal readonly FunctionType Type;

    /// <summary>Engine-wide id of the structural type: call_indirect compares ids, not shapes.</summary>
    internal readonly int TypeId;

    internal readonly WasmInstance? Instance;

    internal readonly CompiledFunction? Code;

    internal readonly WasmHostFunction? Host;

    internal readonly int ParameterCount;

    internal readonly int ResultCount;

    /// <summary>Reference value of this function (non-zero): what funcref slots and tables hold.</summary>
    internal readonly ulong Handle;
}
