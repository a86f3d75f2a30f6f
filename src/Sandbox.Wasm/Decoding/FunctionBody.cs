namespace Sandbox.Wasm.Decoding;

/// <summary>Where a function's code lives in the module binary, with its declared locals (parameters excluded).</summary>
internal sealed record FunctionBody(WasmValueType[] Locals, int CodeStart, int CodeEnd);
