namespace Sandbox.Wasm.Wasi;

/// <summary>The run handed to a pre-initialised guest was refused (its files break a path rule or /tmp's caps).</summary>
public sealed class WasiGateException : Exception
{
    public WasiGateException()
    {
    }

    public WasiGateException(string message)
        : base(message)
    {
    }

    public WasiGateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
