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

    /// <summary>
    /// Translates, in index order, the bodies of a lazily translated module (<see cref="WasmEngineOptions.LazyTranslation"/>)
    /// still waiting for their first call, until <paramref name="stop"/> is cancelled; returns how many it translated.
    /// A body that does not validate stays waiting, so its first call refuses it exactly as it would have.
    /// Not thread-safe against a guest of this module: a parked warm worker calls it on another thread only while its
    /// execution thread is blocked in the gate, and joins that thread before the guest goes on (the join publishes the
    /// translated bodies to the execution thread).
    /// </summary>
    internal int TranslatePending(CancellationToken stop)
    {
        var translated = 0;
        foreach (var function in Functions)
        {
            if (stop.IsCancellationRequested)
            {
                break;
            }

            if (function.Pending is null)
            {
                continue;
            }

            try
            {
                function.EnsureTranslated();
                translated++;
            }
            catch (WasmValidationException)
            {
                // Left pending: the guest's first call of it throws the same error it always would have.
            }
        }

        return translated;
    }
}
