namespace Sandbox.Wasm;

/// <summary>Base of every error the engine raises about a module or its execution.</summary>
public class WasmException : Exception
{
    public WasmException()
    {
    }

    public WasmException(string message)
        : base(message)
    {
    }

    public WasmException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
