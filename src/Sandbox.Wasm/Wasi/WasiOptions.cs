namespace Sandbox.Wasm.Wasi;

/// <summary>What a WASI guest sees of the world. Everything comes from configuration: nothing is read from the host process.</summary>
public sealed record WasiOptions
{
    /// <summary>argv, program name first.</summary>
    public IReadOnlyList<string> Args { get; init; } = ["program"];

    /// <summary>Environment variables (the host's own environment is never passed through).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Bytes the guest reads from fd 0.</summary>
    public ReadOnlyMemory<byte> Stdin { get; init; }

    /// <summary>Most bytes kept from fd 1; later writes are dropped and <see cref="WasiHost.StdoutTruncated"/> is set.</summary>
    public int MaxStdoutBytes { get; init; } = 1024 * 1024;

    /// <summary>Most bytes kept from fd 2.</summary>
    public int MaxStderrBytes { get; init; } = 1024 * 1024;

    /// <summary>When true, a write past an output cap stops the guest with <see cref="WasiOutputLimitException"/> instead of being dropped.</summary>
    public bool StopOnOutputLimit { get; init; }

    /// <summary>Source of wall-clock and monotonic time (fake it in tests).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>When set, random_get is a deterministic stream from this seed (reproducible runs); otherwise a CSPRNG.</summary>
    public int? RandomSeed { get; init; }

    /// <summary>Read-only host folders, in the order they get descriptors (after /tmp, from fd 3 on).</summary>
    public IReadOnlyList<WasiPreopen> Preopens { get; init; } = [];

    /// <summary>The writable in-memory <c>/tmp</c>; null gives the guest none.</summary>
    public WasiTmpOptions? Tmp { get; init; }

    /// <summary>
    /// Cancelled at the run's deadline: cuts a <c>poll_oneoff</c> sleep short with an <see cref="WasmTrapKind.Interrupted"/> trap
    /// (the interpreter's own interrupt is only seen at calls and loop back-edges, never inside a host call).
    /// </summary>
    public CancellationToken Interrupt { get; init; }

    /// <summary>Most descriptors open at once (stdio and preopens included); more fail with EMFILE.</summary>
    public int MaxOpenFiles { get; init; } = 256;

    /// <summary>Told of every byte kept from stdout and stderr as the guest writes it (for live progress); null for none.</summary>
    public Sandbox.Core.Execution.IRunOutputSink? Output { get; init; }

    /// <summary>
    /// Pre-initialisation: when set, the guest runs until its first call that could observe or affect a run (anything on
    /// <c>/tmp</c>, stdin, stdout/stderr, polling, exit); that call first invokes the gate, on the execution thread,
    /// which blocks until a run claims this guest and returns the run's stdin and <c>/tmp</c> files. Until then the guest
    /// sees only what every run of the profile shares (argv, environment, clocks, random bytes, read-only folders).
    /// </summary>
    public Func<WasiRunStart>? Gate { get; init; }
}
