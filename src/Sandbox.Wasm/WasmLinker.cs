namespace Sandbox.Wasm;

/// <summary>Names the externs that imports resolve to: (module, name) → extern.</summary>
public sealed class WasmLinker
{
    private readonly Dictionary<(string Module, string Name), WasmExtern> _definitions = [];

    public WasmLinker Define(string module, string name, WasmExtern value)
    {
        _definitions[(module, name)] = value;
        return this;
    }

    /// <summary>Makes every export of <paramref name="instance"/> importable under <paramref name="module"/> (spec tests' "register").</summary>
    public WasmLinker DefineInstance(string module, WasmInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        foreach (var (name, value) in instance.Exports)
        {
            _definitions[(module, name)] = value;
        }

        return this;
    }

    public bool TryResolve(string module, string name, out WasmExtern? value) => _definitions.TryGetValue((module, name), out value);
}
