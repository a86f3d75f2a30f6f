namespace Sandbox.Wasm.Decoding;

internal sealed record ExportDescriptor(string Name, WasmExternKind Kind, int Index);
