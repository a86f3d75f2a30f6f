namespace Sandbox.Wasm;

/// <summary>What a host function can see of its caller.</summary>
public sealed class WasmCallContext
{
    internal WasmCallContext(WasmEngine engine)
    {
        Engine = engine;
    }

    public WasmEngine Engine { get; }

    /// <summary>The calling instance, or null when the host function was invoked directly by the host.</summary>
    public WasmInstance? Caller { get; internal set; }

    /// <summary>Memory 0 of the calling instance, if it has one (WASI reads and writes guest buffers here).</summary>
    public WasmMemory? Memory => Caller?.Memory;
}
