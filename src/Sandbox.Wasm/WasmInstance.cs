namespace Sandbox.Wasm;

/// <summary>An instantiated module: its functions, tables, memory and globals, and its exports by name.</summary>
public sealed class WasmInstance
{
    private readonly Dictionary<string, WasmExtern> _exports = new(StringComparer.Ordinal);

    internal WasmInstance(WasmEngine engine, WasmModule module)
    {
        Engine = engine;
        Module = module;
    }

    public IReadOnlyDictionary<string, WasmExtern> Exports => _exports;

    /// <summary>Memory 0, if the instance has one.</summary>
    public WasmMemory? Memory => Memory0;

    internal WasmEngine Engine { get; }

    internal WasmModule Module { get; }

    // Fields rather than properties: the dispatch loop is too large for the JIT to inline getters.
    internal WasmMemory? Memory0;

    internal WasmFunction[] Functions = [];

    internal WasmTable[] Tables = [];

    internal WasmGlobal[] Globals = [];

    /// <summary>Engine-wide type id of each of the module's types (call_indirect's expected type).</summary>
    internal int[] TypeIds = [];

    /// <summary>
    /// True from <see cref="WasmEngine.InstantiateForRestore"/> until the snapshot is put in (<see cref="Execution.InstanceSnapshot.Resume"/>,
    /// the only thing done with such an instance): its memory is still the new array's zeros, so the restore need not
    /// read the pages it leaves empty (reading one faults in the kernel's zero page: 88 of CPython's 160, about 1.5 ms).
    /// </summary>
    internal bool MemoryIsZero;

    /// <summary>Data segments; a dropped (or active, once applied) segment becomes empty.</summary>
    internal byte[][] DataSegments = [];

    /// <summary>Element segments as resolved reference handles; dropped ones become empty.</summary>
    internal ulong[][] ElementSegments = [];

    internal Dictionary<string, WasmExtern> ExportTable => _exports;

    /// <summary>Calls the exported function <paramref name="name"/> on the current thread.</summary>
    public WasmValue[] Invoke(string name, params WasmValue[] args)
    {
        if (!_exports.TryGetValue(name, out var e) || e is not WasmFunction f)
        {
            throw new ArgumentException($"no exported function named '{name}'", nameof(name));
        }

        return Engine.Invoke(f, args);
    }

    /// <summary>The exported function <paramref name="name"/>, or null.</summary>
    public WasmFunction? GetFunction(string name) => _exports.GetValueOrDefault(name) as WasmFunction;

    /// <summary>The exported global <paramref name="name"/>, or null.</summary>
    public WasmGlobal? GetGlobal(string name) => _exports.GetValueOrDefault(name) as WasmGlobal;
}
