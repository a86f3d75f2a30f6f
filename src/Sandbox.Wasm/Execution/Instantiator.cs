using Sandbox.Wasm.Decoding;

namespace Sandbox.Wasm.Execution;

/// <summary>
/// Spec 2.0 instantiation (4.5.4): resolve and type-check imports, allocate, initialise globals, export,
/// then apply active element segments and data segments in order (a trap leaves earlier writes in place,
/// as the spec's "linking" tests require), drop declarative segments, and run the start function.
/// </summary>
internal static class Instantiator
{
    /// <summary>Instantiates <paramref name="module"/>; <paramref name="copyData"/> is false only for an instance a snapshot will overwrite whole (<see cref="WasmEngine.InstantiateForRestore"/>).</summary>
    public static WasmInstance Instantiate(WasmEngine engine, WasmModule module, WasmLinker? linker, bool copyData = true)
    {
        var m = module.Definition;
        var options = engine.Options;
        var instance = new WasmInstance(engine, module);
        var functions = new WasmFunction[m.FunctionTypes.Count];
        var tables = new WasmTable[m.Tables.Count];
        var memories = new WasmMemory[m.Memories.Count];
        var globals = new WasmGlobal[m.Globals.Count];
        int fi = 0, ti = 0, mi = 0, gi = 0;

        foreach (var import in m.Imports)
        {
            WasmExtern? value = null;
            if (linker is null || !linker.TryResolve(import.Module, import.Name, out value) || value is null)
            {
                throw new WasmLinkException($"unknown import: {import.Module}.{import.Name}");
            }

            if (value.Kind != import.Kind)
            {
                throw new WasmLinkException($"incompatible import type for {import.Module}.{import.Name}: expected {import.Kind}, got {value.Kind}");
            }

            switch (value)
            {
                case WasmFunction f:
                    if (!f.Type.Equals(m.Types[import.TypeIndex]))
                    {
                        throw new WasmLinkException($"incompatible import type for {import.Module}.{import.Name}: function type {f.Type} does not match {m.Types[import.TypeIndex]}");
                    }

                    functions[fi++] = f;
                    break;
                case WasmTable t:
                    if (t.Type.ElementType != import.Table.ElementType || !t.Type.Limits.IsSubtypeOf(import.Table.Limits))
                    {
                        throw new WasmLinkException($"incompatible import type for {import.Module}.{import.Name}: table type");
                    }

                    tables[ti++] = t;
                    break;
                case WasmMemory mem:
                    if (!mem.Limits.IsSubtypeOf(import.Memory))
                    {
                        throw new WasmLinkException($"incompatible import type for {import.Module}.{import.Name}: memory limits");
                    }

                    memories[mi++] = mem;
                    break;
                case WasmGlobal g:
                    if (g.Type != import.Global)
                    {
                        throw new WasmLinkException($"incompatible import type for {import.Module}.{import.Name}: global type");
                    }

                    globals[gi++] = g;
                    break;
                default:
                    throw new WasmLinkException($"incompatible import type for {import.Module}.{import.Name}");
            }
        }

        instance.TypeIds = m.Types.Select(engine.CanonicalTypeId).ToArray();
        instance.Functions = functions;
        instance.Tables = tables;
        instance.Globals = globals;
        for (var i = 0; i < module.Functions.Length; i++)
        {
            var index = m.ImportedFunctionCount + i;
            var type = m.FunctionTypes[index];
            functions[index] = new WasmFunction(engine, m.Types[type], instance.TypeIds[type], instance, module.Functions[i], null);
        }

        var memoryCap = options.MaxMemoryPages;
        for (; mi < memories.Length; mi++)
        {
            memories[mi] = new WasmMemory(m.Memories[mi], memoryCap, engine.Budget);
        }

        instance.Memory0 = memories.Length > 0 ? memories[0] : null;

        // Globals may refer to imported globals and functions only, which all exist by now.
        for (var i = 0; i < m.GlobalInitializers.Count; i++)
        {
            var index = m.ImportedGlobalCount + i;
            globals[index] = new WasmGlobal(m.Globals[index], Evaluate(instance, m.GlobalInitializers[i]));
        }

        for (; ti < tables.Length; ti++)
        {
            tables[ti] = new WasmTable(m.Tables[ti], options.MaxTableElements, engine.Budget);
        }

        foreach (var export in m.Exports)
        {
            WasmExtern value = export.Kind switch
            {
                WasmExternKind.Function => functions[export.Index],
                WasmExternKind.Table => tables[export.Index],
                WasmExternKind.Memory => memories[export.Index],
                _ => globals[export.Index],
            };
            instance.ExportTable[export.Name] = value;
        }

        instance.ElementSegments = new ulong[m.Elements.Count][];
        for (var i = 0; i < m.Elements.Count; i++)
        {
            var segment = m.Elements[i];
            var items = new ulong[segment.Items.Length];
            for (var j = 0; j < items.Length; j++)
            {
                items[j] = Evaluate(instance, segment.Items[j]);
            }

            instance.ElementSegments[i] = items;
        }

        instance.DataSegments = m.Data.Select(d => d.Bytes).ToArray();

        for (var i = 0; i < m.Elements.Count; i++)
        {
            var segment = m.Elements[i];
            if (segment.Mode == SegmentMode.Active)
            {
                var offset = (uint)Evaluate(instance, segment.Offset);
                var items = instance.ElementSegments[i];
                var table = tables[segment.TableIndex];
                if ((ulong)offset + (ulong)items.Length > (ulong)table.Length)
                {
                    throw new WasmTrapException(WasmTrapKind.OutOfBoundsTableAccess);
                }

                items.CopyTo(table.Elements, (int)offset);
            }

            if (segment.Mode != SegmentMode.Passive)
            {
                instance.ElementSegments[i] = [];
            }
        }

        for (var i = 0; i < m.Data.Count; i++)
        {
            var segment = m.Data[i];
            if (segment.Mode != SegmentMode.Active)
            {
                continue;
            }

            var offset = (uint)Evaluate(instance, segment.Offset);
            var memory = memories[segment.MemoryIndex];
            if ((ulong)offset + (ulong)segment.Bytes.Length > (ulong)memory.ByteLength)
            {
                throw new WasmTrapException(WasmTrapKind.OutOfBoundsMemoryAccess);
            }

            if (copyData)
            {
                segment.Bytes.CopyTo(memory.Buffer, (int)offset);
            }

            instance.DataSegments[i] = [];
        }

        // Nothing has written the memory yet: no data copied, no start function to run, and not the host's own memory.
        instance.MemoryIsZero = !copyData && m.StartFunction is null && !m.Imports.Any(i => i.Kind == WasmExternKind.Memory);
        if (m.StartFunction is { } start)
        {
            engine.Invoke(functions[start], []);
        }

        return instance;
    }

    private static ulong Evaluate(WasmInstance instance, ConstantExpression e) => e.Kind switch
    {
        ConstantKind.Value => e.Value,
        ConstantKind.GlobalGet => instance.Globals[e.Index].Bits,
        ConstantKind.RefFunc => instance.Functions[e.Index].Handle,
        _ => 0,
    };
}
