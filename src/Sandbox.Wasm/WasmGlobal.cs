using Sandbox.Wasm.Decoding;

namespace Sandbox.Wasm;

/// <summary>A global variable instance.</summary>
public sealed class WasmGlobal : WasmExtern
{
    internal WasmGlobal(GlobalType type, ulong value)
    {
        Type = type;
        Bits = value;
    }

    /// <summary>Creates a host-owned global (for example to import into a module).</summary>
    public WasmGlobal(WasmValue value, bool mutable)
        : this(new GlobalType(value.Type, mutable), value.Bits)
    {
    }

    public override WasmExternKind Kind => WasmExternKind.Global;

    public WasmValue Value => new(Type.ValueType, Bits);

    public bool Mutable => Type.Mutable;

    internal GlobalType Type { get; }

    /// <summary>The value's bits; a public field-like property the interpreter reads and writes directly.</summary>
    internal ulong Bits;
}
