namespace Sandbox.Wasm.Decoding;

internal enum SegmentMode : byte
{
    Active,
    Passive,
    Declarative,
}
