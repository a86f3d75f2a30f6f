namespace Sandbox.Wasm;

/// <summary>The binary is malformed (spec: "assert_malformed") or exceeds a decode-time cap.</summary>
public sealed class WasmDecodeException : WasmException
{
    public WasmDecodeException()
    {
    }

    public WasmDecodeException(string message)
        : base(message)
    {
    }

    public WasmDecodeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Byte offset in the module where the problem was found, or -1.</summary>
    public long Offset { get; init; } = -1;

    /// <summary>True when the module was rejected by a configured cap rather than by the specification.</summary>
    public bool IsLimit { get; init; }
}
