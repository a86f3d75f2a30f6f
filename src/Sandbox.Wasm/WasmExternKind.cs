namespace Sandbox.Wasm;

/// <summary>Kinds of importable and exportable entities, with their binary encodings.</summary>
public enum WasmExternKind : byte
{
    Function = 0,
    Table = 1,
    Memory = 2,
    Global = 3,
}
