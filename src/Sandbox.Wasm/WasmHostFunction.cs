namespace Sandbox.Wasm;

/// <summary>
/// A host function. On entry <paramref name="stack"/> holds the arguments as raw slots (i32 in the low 32
/// bits, floats as bits); the callee writes its results from index 0. The span is at least as long as the
/// larger of the parameter and result counts. Throw <see cref="WasmTrapException"/> to trap.
/// </summary>
public delegate void WasmHostFunction(WasmCallContext context, Span<ulong> stack);
