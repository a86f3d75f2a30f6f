namespace Sandbox.Wasm.Wasi;

/// <summary>The guest called proc_exit: unwinds the guest; the host reads <see cref="ExitCode"/>.</summary>
public sealed class WasiExitException : WasmException
{
    public WasiExitException()
    {
    }

    public WasiExitException(string message)
        : base(message)
    {
    }

    public WasiExitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public WasiExitException(int exitCode)
        : base($"proc_exit({exitCode})")
    {
        ExitCode = exitCode;
    }

    public int ExitCode { get; }
}
