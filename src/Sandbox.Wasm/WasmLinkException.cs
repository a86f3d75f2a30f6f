namespace Sandbox.Wasm;

/// <summary>An import could not be resolved or has an incompatible type (spec: "assert_unlinkable"), or a
/// declared minimum exceeds a host cap.</summary>
public sealed class WasmLinkException : WasmException
{
    public WasmLinkException()
    {
    }

    public WasmLinkException(string message)
        : base(message)
    {
    }

    public WasmLinkException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
