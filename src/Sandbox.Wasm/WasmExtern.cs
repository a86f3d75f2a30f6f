namespace Sandbox.Wasm;

/// <summary>Something an instance can import or export: a function, table, memory or global.</summary>
public abstract class WasmExtern
{
    private protected WasmExtern()
    {
    }

    public abstract WasmExternKind Kind { get; }
}
