using Sandbox.Wasm.Decoding;
using Sandbox.Wasm.Execution;

namespace Sandbox.Wasm;

/// <summary>A decoded, validated and translated module, ready to instantiate any number of times.</summary>
public sealed class WasmModule
{
    internal WasmModule(ModuleDefinition definition, CompiledFunction[] functions)
    {
        Definition = definition;
        Functions = functions;
    }

    /// <summary>(module, name, kind) of every import, in order.</summary>
    public IEnumerable<(string Module, string Name, WasmExternKind Kind)> Imports =>
        Definition.Imports.Select(i => (i.Module, i.Name, i.Kind));

    /// <summary>(name, kind) of every export, in order.</summary>
    public IEnumerable<(string Name, WasmExternKind Kind)> Exports =>
        Definition.Exports.Select(e => (e.Name, e.Kind));

    internal ModuleDefinition Definition { get; }

    internal CompiledFunction[] Functions { get; }
}
