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

    /// <summary>True when the import or definition is fine but its minimum size does not fit the run's memory limit (memory_limit, not a bad module).</summary>
    public bool ExceedsMemoryLimit { get; init; }
}
