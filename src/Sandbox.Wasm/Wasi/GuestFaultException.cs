namespace Sandbox.Wasm.Wasi;

/// <summary>A WASI argument pointed outside linear memory; reported to the guest as EFAULT.</summary>
internal sealed class GuestFaultException : Exception
{
    public GuestFaultException()
        : base("guest pointer out of bounds")
    {
    }

    public GuestFaultException(string message)
        : base(message)
    {
    }

    public GuestFaultException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
