namespace Sandbox.Wasm.Decoding;

internal readonly record struct TableType(WasmValueType ElementType, Limits Limits);
