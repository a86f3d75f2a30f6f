namespace Sandbox.Wasm.Decoding;

internal sealed record ImportDescriptor(string Module, string Name, WasmExternKind Kind)
{
    public int TypeIndex { get; init; }

    public TableType Table { get; init; }

    public Limits Memory { get; init; }

    public GlobalType Global { get; init; }
}
