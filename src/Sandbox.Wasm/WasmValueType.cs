namespace Sandbox.Wasm;

/// <summary>WebAssembly value types, with their binary encodings.</summary>
public enum WasmValueType : byte
{
    /// <summary>Validator-only: the type of a value popped from a polymorphic (unreachable) stack.</summary>
    Unknown = 0,
    I32 = 0x7F,
    I64 = 0x7E,
    F32 = 0x7D,
    F64 = 0x7C,
    FuncRef = 0x70,
    ExternRef = 0x6F,
}
