namespace Sandbox.Wasm.Decoding;

internal sealed record DataSegment(SegmentMode Mode, int MemoryIndex, ConstantExpression Offset, byte[] Bytes);
