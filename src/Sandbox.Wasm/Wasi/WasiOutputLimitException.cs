namespace Sandbox.Wasm.Wasi;

/// <summary>The guest wrote past an output cap with <see cref="WasiOptions.StopOnOutputLimit"/> set: unwinds the guest.</summary>
public sealed class WasiOutputLimitException : WasmException
{
    public WasiOutputLimitException()
    {
    }

    public WasiOutputLimitException(string message)
        : base(message)
    {
    }

    public WasiOutputLimitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public WasiOutputLimitException(bool isStdout, long cap)
        : base($"{(isStdout ? "stdout" : "stderr")} passed its cap of {cap} bytes")
    {
        IsStdout = isStdout;
        Cap = cap;
    }

    /// <summary>True for stdout, false for stderr.</summary>
    public bool IsStdout { get; }

    /// <summary>The cap that was passed, in bytes.</summary>
    public long Cap { get; }
}
