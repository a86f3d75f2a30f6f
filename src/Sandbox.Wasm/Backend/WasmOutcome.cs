using Sandbox.Wasm.Wasi;

namespace Sandbox.Wasm.Backend;

/// <summary>How a guest's run ended, as the engine saw it; exactly one member is set.</summary>
internal sealed record WasmOutcome
{
    /// <summary>proc_exit(n), or 0 when <c>_start</c> returned.</summary>
    public int? ExitCode { get; init; }

    public WasmTrapException? Trap { get; init; }

    public WasiOutputLimitException? Output { get; init; }

    /// <summary>The module imports something we do not provide.</summary>
    public WasmLinkException? Link { get; init; }

    /// <summary>The module has no <c>_start</c> of type [] → [].</summary>
    public bool MissingStart { get; init; }

    /// <summary>Our own failure (a bug or a host I/O error), never the guest's.</summary>
    public Exception? Failure { get; init; }
}
