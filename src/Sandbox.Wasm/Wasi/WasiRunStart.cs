namespace Sandbox.Wasm.Wasi;

/// <summary>What a pre-initialised guest receives when a run claims it (<see cref="WasiOptions.Gate"/>).</summary>
public sealed record WasiRunStart
{
    /// <summary>Bytes the guest reads from fd 0.</summary>
    public ReadOnlyMemory<byte> Stdin { get; init; }

    /// <summary>The run's files, created in <c>/tmp</c> against its caps.</summary>
    public IReadOnlyDictionary<string, ReadOnlyMemory<byte>> Files { get; init; } = new Dictionary<string, ReadOnlyMemory<byte>>();
}
