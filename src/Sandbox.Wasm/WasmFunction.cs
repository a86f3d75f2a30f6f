using Sandbox.Wasm.Decoding;
using Sandbox.Wasm.Execution;

namespace Sandbox.Wasm;

/// <summary>A function instance: either a guest function of some instance, or a host function.</summary>
public sealed class WasmFunction : WasmExtern
{
    internal WasmFunction(WasmEngine engine, FunctionType type, WasmInstance? instance, CompiledFunction? code, WasmHostFunction? host)
    {
        Engine = engine;
        Type = type;
        TypeId = engine.CanonicalTypeId(type);
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

    internal WasmEngine Engine { get; }

    internal FunctionType Type { get; }

    /// <summary>Engine-wide id of the structural type: call_indirect compares ids, not shapes.</summary>
    internal int TypeId { get; }

    internal WasmInstance? Instance { get; }

    internal CompiledFunction? Code { get; }

    internal WasmHostFunction? Host { get; }

    internal int ParameterCount { get; }

    internal int ResultCount { get; }

    /// <summary>Reference value of this function (non-zero): what funcref slots and tables hold.</summary>
    internal ulong Handle { get; }
}
