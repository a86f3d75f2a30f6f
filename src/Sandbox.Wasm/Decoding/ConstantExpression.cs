namespace Sandbox.Wasm.Decoding;

/// <summary>A constant expression (global initialiser, segment offset or element item). The feature set we
/// accept allows exactly one instruction before <c>end</c>, so one kind plus an operand describes it.</summary>
internal readonly record struct ConstantExpression(ConstantKind Kind, WasmValueType Type, ulong Value, int Index);
