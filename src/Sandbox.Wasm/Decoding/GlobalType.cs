namespace Sandbox.Wasm.Decoding;

internal readonly record struct GlobalType(WasmValueType ValueType, bool Mutable);
