namespace Sandbox.Wasm.Decoding;

/// <summary>The one instruction of a constant expression.</summary>
internal enum ConstantKind : byte
{
    Value,
    GlobalGet,
    RefNull,
    RefFunc,
}
