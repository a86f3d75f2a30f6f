namespace Sandbox.Wasm.Decoding;

internal sealed record ElementSegment(SegmentMode Mode, int TableIndex, ConstantExpression Offset, WasmValueType ElementType, ConstantExpression[] Items);
