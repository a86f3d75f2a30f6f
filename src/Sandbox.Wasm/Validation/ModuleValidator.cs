using Sandbox.Wasm.Decoding;
using Sandbox.Wasm.Execution;

namespace Sandbox.Wasm.Validation;

/// <summary>
/// Module-level validation (spec 3.4.10 "Modules") followed by validation and translation of every body.
/// </summary>
internal static class ModuleValidator
{
    private const uint MaxPages = 65536;

    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> fired (checked before every function and inside long bodies).</exception>
    public static CompiledFunction[] Validate(ModuleDefinition m, WasmEngineOptions options, CancellationToken cancellation = default)
    {
        var declared = CheckModule(m);
        var compiled = new CompiledFunction[m.Bodies.Count];
        for (var i = 0; i < m.Bodies.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            var index = m.ImportedFunctionCount + i;
            var type = m.Types[m.FunctionTypes[index]];
            compiled[i] = options.LazyTranslation
                ? CompiledFunction.Lazy(type.Parameters.Length, type.Results.Length, () => Translate(m, options, declared, index, CancellationToken.None))
                : Translate(m, options, declared, index, cancellation);
        }

        return compiled;
    }

    /// <summary>
    /// The functions of a module read from its image (<see cref="ModuleImage"/>): the module-level checks run again (they
    /// are cheap, and an image that breaks them fails here), each body the image holds translated is taken as it is at its
    /// first call (<paramref name="code"/>'s <c>Code</c> makes it then), and the others are translated at their first call.
    /// </summary>
    public static CompiledFunction[] Restore(ModuleDefinition m, WasmEngineOptions options, (int LocalCount, int MaxHeight, int EntryFuel, Func<Instruction[]> Code)?[] code)
    {
        var declared = CheckModule(m);
        var compiled = new CompiledFunction[m.Bodies.Count];
        for (var i = 0; i < m.Bodies.Count; i++)
        {
            var index = m.ImportedFunctionCount + i;
            var type = m.Types[m.FunctionTypes[index]];
            if (code[i] is not { } body)
            {
                compiled[i] = CompiledFunction.Lazy(type.Parameters.Length, type.Results.Length, () => Translate(m, options, declared, index, CancellationToken.None));
                continue;
            }

            // Made at the first call, as a lazy translation is, but copied rather than translated: a restored CPython run calls a
            // few hundred of its 7,670 bodies, and copying all of them (18 MB) before the worker parked was most of the image's read.
            compiled[i] = CompiledFunction.Lazy(type.Parameters.Length, type.Results.Length, () =>
            {
                var function = new CompiledFunction
                {
                    Code = body.Code(),
                    ParameterCount = type.Parameters.Length,
                    LocalCount = body.LocalCount,
                    ResultCount = type.Results.Length,
                    MaxHeight = body.MaxHeight,
                    EntryFuel = body.EntryFuel,
                };
                WithModule(function, m, options, declared, index);
                return function;
            });
        }

        return compiled;
    }

    /// <summary>Module-level validation (everything but the bodies); returns the functions a <c>ref.func</c> may name.</summary>
    private static HashSet<int> CheckModule(ModuleDefinition m)
    {
        foreach (var import in m.Imports)
        {
            switch (import.Kind)
            {
                case WasmExternKind.Function:
                    CheckType(m, import.TypeIndex);
                    break;
                case WasmExternKind.Table:
                    CheckTableLimits(import.Table.Limits);
                    break;
                case WasmExternKind.Memory:
                    CheckMemoryLimits(import.Memory);
                    break;
                default:
                    break;
            }
        }

        for (var i = m.ImportedFunctionCount; i < m.FunctionTypes.Count; i++)
        {
            CheckType(m, m.FunctionTypes[i]);
        }

        for (var i = m.ImportedTableCount; i < m.Tables.Count; i++)
        {
            CheckTableLimits(m.Tables[i].Limits);
        }

        if (m.Memories.Count > 1)
        {
            throw new WasmValidationException("multiple memories");
        }

        for (var i = m.ImportedMemoryCount; i < m.Memories.Count; i++)
        {
            CheckMemoryLimits(m.Memories[i]);
        }

        for (var i = 0; i < m.GlobalInitializers.Count; i++)
        {
            CheckConstant(m, m.GlobalInitializers[i], m.Globals[m.ImportedGlobalCount + i].ValueType);
        }

        var declared = new HashSet<int>();
        foreach (var segment in m.Elements)
        {
            if (segment.Mode == SegmentMode.Active)
            {
                if (segment.TableIndex >= m.Tables.Count)
                {
                    throw new WasmValidationException("unknown table");
                }

                if (m.Tables[segment.TableIndex].ElementType != segment.ElementType)
                {
                    throw new WasmValidationException("type mismatch: element segment and table types differ");
                }

                CheckConstant(m, segment.Offset, WasmValueType.I32);
            }

            foreach (var item in segment.Items)
            {
                CheckConstant(m, item, segment.ElementType);
                if (item.Kind == ConstantKind.RefFunc)
                {
                    declared.Add(item.Index);
                }
            }
        }

        foreach (var init in m.GlobalInitializers)
        {
            if (init.Kind == ConstantKind.RefFunc)
            {
                declared.Add(init.Index);
            }
        }

        foreach (var segment in m.Data)
        {
            if (segment.Mode == SegmentMode.Active)
            {
                if (segment.MemoryIndex >= m.Memories.Count)
                {
                    throw new WasmValidationException("unknown memory");
                }

                CheckConstant(m, segment.Offset, WasmValueType.I32);
            }
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var export in m.Exports)
        {
            if (!names.Add(export.Name))
            {
                throw new WasmValidationException("duplicate export name");
            }

            var count = export.Kind switch
            {
                WasmExternKind.Function => m.FunctionTypes.Count,
                WasmExternKind.Table => m.Tables.Count,
                WasmExternKind.Memory => m.Memories.Count,
                _ => m.Globals.Count,
            };
            if (export.Index >= count)
            {
                throw new WasmValidationException($"unknown {export.Kind.ToString().ToLowerInvariant()}");
            }

            if (export.Kind == WasmExternKind.Function)
            {
                declared.Add(export.Index);
            }
        }

        if (m.StartFunction is { } start)
        {
            if (start >= m.FunctionTypes.Count)
            {
                throw new WasmValidationException("unknown function");
            }

            var t = m.Types[m.FunctionTypes[start]];
            if (t.Parameters.Length != 0 || t.Results.Length != 0)
            {
                throw new WasmValidationException("start function must have type [] -> []");
            }
        }

        return declared;
    }

    /// <summary>Validates and translates function <paramref name="index"/> (its body), with its plain form for the IL tier on demand.</summary>
    private static CompiledFunction Translate(ModuleDefinition m, WasmEngineOptions options, HashSet<int> declared, int index, CancellationToken cancellation)
    {
        var type = m.Types[m.FunctionTypes[index]];
        var body = m.Bodies[index - m.ImportedFunctionCount];
        var compiled = new FunctionTranslator(m, options, declared, index, cancellation).Translate(type, body);
        WithModule(compiled, m, options, declared, index);
        return compiled;
    }

    /// <summary>Links a translated body to its module, with its plain form for the IL tier on demand.</summary>
    private static void WithModule(CompiledFunction compiled, ModuleDefinition m, WasmEngineOptions options, HashSet<int> declared, int index)
    {
        compiled.Module = m;
        if (options.FuseInstructions)
        {
            // The IL tier compiles the plain form; it is re-translated (cheaply) only for functions that get compiled.
            var type = m.Types[m.FunctionTypes[index]];
            var body = m.Bodies[index - m.ImportedFunctionCount];
            var unfused = options with { FuseInstructions = false, LazyTranslation = false };
            compiled.Unfused = () => new FunctionTranslator(m, unfused, declared, index).Translate(type, body);
        }
    }

    private static void CheckType(ModuleDefinition m, int index)
    {
        if (index < 0 || index >= m.Types.Count)
        {
            throw new WasmValidationException("unknown type");
        }
    }

    private static void CheckTableLimits(Limits limits)
    {
        if (limits.Max is { } max && max < limits.Min)
        {
            throw new WasmValidationException("size minimum must not be greater than maximum");
        }
    }

    private static void CheckMemoryLimits(Limits limits)
    {
        if (limits.Min > MaxPages || limits.Max > MaxPages)
        {
            throw new WasmValidationException("memory size must be at most 65536 pages (4GiB)");
        }

        if (limits.Max is { } max && max < limits.Min)
        {
            throw new WasmValidationException("size minimum must not be greater than maximum");
        }
    }

    private static void CheckConstant(ModuleDefinition m, ConstantExpression e, WasmValueType expected)
    {
        WasmValueType actual;
        switch (e.Kind)
        {
            case ConstantKind.GlobalGet:
                // Spec 2.0: constant expressions may only read imported, immutable globals.
                if (e.Index >= m.Globals.Count)
                {
                    throw new WasmValidationException("unknown global");
                }

                if (e.Index >= m.ImportedGlobalCount || m.Globals[e.Index].Mutable)
                {
                    throw new WasmValidationException(e.Index >= m.ImportedGlobalCount ? "unknown global" : "constant expression required");
                }

                actual = m.Globals[e.Index].ValueType;
                break;
            case ConstantKind.RefFunc:
                if (e.Index >= m.FunctionTypes.Count)
                {
                    throw new WasmValidationException("unknown function");
                }

                actual = WasmValueType.FuncRef;
                break;
            default:
                actual = e.Type;
                break;
        }

        if (actual != expected)
        {
            throw new WasmValidationException($"type mismatch: constant expression of type {actual}, expected {expected}");
        }
    }
}
