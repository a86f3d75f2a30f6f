namespace Sandbox.Wasm;

/// <summary>The module is well-formed but does not validate (spec: "assert_invalid").</summary>
public sealed class WasmValidationException : WasmException
{
    public WasmValidationException()
    {
    }

    public WasmValidationException(string message)
        : base(message)
    {
    }

    public WasmValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Index of the function whose body failed, or -1 for module-level checks.</summary>
    public int FunctionIndex { get; init; } = -1;
}
