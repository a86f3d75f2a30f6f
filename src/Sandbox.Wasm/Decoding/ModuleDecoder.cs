namespace Sandbox.Wasm.Decoding;

/// <summary>
/// Decodes the binary format into a <see cref="ModuleDefinition"/>. Function bodies are only framed here
/// (locals read, code range recorded); their instructions are decoded by the validator, which also
/// translates them. Every count is checked against a cap in <see cref="WasmEngineOptions"/> before
/// anything proportional to it is allocated.
/// </summary>
internal sealed class ModuleDecoder
{
    private readonly WasmEngineOptions _options;
    private readonly byte[] _bytes;
    private readonly CancellationToken _cancellation;

    private ModuleDecoder(WasmEngineOptions options, byte[] bytes, CancellationToken cancellation)
    {
        _options = options;
        _bytes = bytes;
        _cancellation = cancellation;
    }

    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> fired (checked every 1,024 entries of any vector).</exception>
    public static ModuleDefinition Decode(byte[] bytes, WasmEngineOptions options, CancellationToken cancellation = default)
    {
        if (bytes.Length > options.MaxModuleBytes)
        {
            throw new WasmDecodeException($"module is {bytes.Length} bytes, more than the cap of {options.MaxModuleBytes} (MaxModuleBytes)") { IsLimit = true, Offset = 0 };
        }

        return new ModuleDecoder(options, bytes, cancellation).DecodeModule();
    }

    /// <summary>Stops decoding when the run's deadline fires: the caller's time bounds loading too, not only running.
    /// Every 1,024 entries, so the check costs nothing measurable.</summary>
    private void Checkpoint(int index)
    {
        if ((index & 1023) == 0)
        {
            _cancellation.ThrowIfCancellationRequested();
        }
    }

    private static WasmDecodeException Limit(string what, long observed, int cap, string option, int offset) =>
        new($"{what}: {observed} exceeds the cap of {cap} ({option})") { IsLimit = true, Offset = offset };

    private ModuleDefinition DecodeModule()
    {
        var reader = new WasmReader(_bytes, 0, _bytes.Length);
        var module = new ModuleDefinition { Bytes = _bytes };
        if (_bytes.Length < 4 || reader.ReadFixed32() != 0x6D736100)
        {
            throw WasmReader.Malformed("magic header not detected", 0);
        }

        if (_bytes.Length < 8 || reader.ReadFixed32() != 1)
        {
            throw WasmReader.Malformed("unknown binary version", 4);
        }

        var lastOrder = 0;
        var functionCount = -1;
        while (!reader.AtEnd)
        {
            var id = reader.ReadByte();
            var size = reader.ReadIndex();
            var start = reader.Position;
            if (size > reader.End - start)
            {
                throw WasmReader.Malformed("section size mismatch: unexpected end", start);
            }

            var section = new WasmReader(_bytes, start, start + size);
            if (id != 0)
            {
                var order = SectionOrder(id, start);
                if (order <= lastOrder)
                {
                    throw WasmReader.Malformed("unexpected content after last section (section out of order or duplicated)", start - 1);
                }

                lastOrder = order;
            }

            switch (id)
            {
                case 0:
                    _ = section.ReadName();
                    section.Position = section.End;
                    break;
                case 1: ReadTypes(ref section, module); break;
                case 2: ReadImports(ref section, module); break;
                case 3: functionCount = ReadFunctions(ref section, module); break;
                case 4: ReadTables(ref section, module); break;
                case 5: ReadMemories(ref section, module); break;
                case 6: ReadGlobals(ref section, module); break;
                case 7: ReadExports(ref section, module); break;
                case 8: module.StartFunction = section.ReadIndex(); break;
                case 9: ReadElements(ref section, module); break;
                case 10:
                    ReadCode(ref section, module, functionCount);
                    functionCount = -2;
                    break;
                case 11: ReadData(ref section, module); break;
                case 12: module.DataCount = section.ReadIndex(); break;
                default: throw WasmReader.Malformed("malformed section id", start - 1);
            }

            if (section.Position != section.End)
            {
                throw WasmReader.Malformed("section size mismatch", section.Position);
            }

            reader.Position = section.End;
        }

        if (functionCount > 0)
        {
            throw WasmReader.Malformed("function and code section have inconsistent lengths", _bytes.Length);
        }

        if (module.DataCount is { } dc && dc != module.Data.Count)
        {
            throw WasmReader.Malformed("data count and data section have inconsistent lengths", _bytes.Length);
        }

        return module;
    }

    /// <summary>Section order per spec 2.0: data count (12) sits between import-ish sections and code.</summary>
    private static int SectionOrder(byte id, int offset) => id switch
    {
        1 => 1, 2 => 2, 3 => 3, 4 => 4, 5 => 5, 6 => 6, 7 => 7, 8 => 8, 9 => 9, 12 => 10, 10 => 11, 11 => 12,
        _ => throw WasmReader.Malformed("malformed section id", offset - 1),
    };

    private static int ReadCount(ref WasmReader r, int cap, string what, string option)
    {
        var at = r.Position;
        var count = r.ReadU32();
        if (count > (uint)cap)
        {
            throw Limit(what, count, cap, option, at);
        }

        // Each entry takes at least one byte: a count larger than the rest of the section is malformed,
        // and rejecting it here keeps allocation proportional to the input.
        if (count > (uint)(r.End - r.Position))
        {
            throw WasmReader.Malformed("length out of bounds: unexpected end", at);
        }

        return (int)count;
    }

    private void ReadTypes(ref WasmReader r, ModuleDefinition m)
    {
        var count = ReadCount(ref r, _options.MaxTypes, "type count", nameof(WasmEngineOptions.MaxTypes));
        for (var i = 0; i < count; i++)
        {
            Checkpoint(i);
            if (r.ReadByte() != 0x60)
            {
                throw WasmReader.Malformed("integer representation too long (malformed function type)", r.Position - 1);
            }

            var p = ReadValueTypes(ref r);
            var res = ReadValueTypes(ref r);
            m.Types.Add(new FunctionType(p, res));
        }
    }

    private WasmValueType[] ReadValueTypes(ref WasmReader r)
    {
        var n = ReadCount(ref r, _options.MaxFunctionTypeArity, "function type arity", nameof(WasmEngineOptions.MaxFunctionTypeArity));
        var types = new WasmValueType[n];
        for (var i = 0; i < n; i++)
        {
            types[i] = r.ReadValueType();
        }

        return types;
    }

    private static Limits ReadLimits(ref WasmReader r, bool isMemory)
    {
        var flag = r.ReadByte();
        if (flag > 1)
        {
            // 0x02/0x03 are shared memories (threads proposal), 0x04+ memory64: not supported.
            throw WasmReader.Malformed(isMemory ? "integer too large (unsupported memory limits flag)" : "integer representation too long (malformed table limits flag)", r.Position - 1);
        }

        var min = r.ReadU32();
        uint? max = flag == 1 ? r.ReadU32() : null;
        return new Limits(min, max);
    }

    private void ReadImports(ref WasmReader r, ModuleDefinition m)
    {
        var count = ReadCount(ref r, _options.MaxImports, "import count", nameof(WasmEngineOptions.MaxImports));
        for (var i = 0; i < count; i++)
        {
            Checkpoint(i);
            var module = r.ReadName();
            var name = r.ReadName();
            var kindAt = r.Position;
            var kind = r.ReadByte();
            switch (kind)
            {
                case 0:
                    var typeIndex = r.ReadIndex();
                    m.Imports.Add(new ImportDescriptor(module, name, WasmExternKind.Function) { TypeIndex = typeIndex });
                    m.FunctionTypes.Add(typeIndex);
                    m.ImportedFunctionCount++;
                    break;
                case 1:
                    var table = new TableType(r.ReadReferenceType(), ReadLimits(ref r, false));
                    m.Imports.Add(new ImportDescriptor(module, name, WasmExternKind.Table) { Table = table });
                    m.Tables.Add(table);
                    m.ImportedTableCount++;
                    break;
                case 2:
                    var memory = ReadLimits(ref r, true);
                    m.Imports.Add(new ImportDescriptor(module, name, WasmExternKind.Memory) { Memory = memory });
                    m.Memories.Add(memory);
                    m.ImportedMemoryCount++;
                    break;
                case 3:
                    var global = ReadGlobalType(ref r);
                    m.Imports.Add(new ImportDescriptor(module, name, WasmExternKind.Global) { Global = global });
                    m.Globals.Add(global);
                    m.ImportedGlobalCount++;
                    break;
                default:
                    throw WasmReader.Malformed("malformed import kind", kindAt);
            }
        }

        CheckCounts(m, r.Position);
    }

    private void CheckCounts(ModuleDefinition m, int at)
    {
        if (m.FunctionTypes.Count > _options.MaxFunctions)
        {
            throw Limit("function count", m.FunctionTypes.Count, _options.MaxFunctions, nameof(WasmEngineOptions.MaxFunctions), at);
        }

        if (m.Globals.Count > _options.MaxGlobals)
        {
            throw Limit("global count", m.Globals.Count, _options.MaxGlobals, nameof(WasmEngineOptions.MaxGlobals), at);
        }

        if (m.Tables.Count > _options.MaxTables)
        {
            throw Limit("table count", m.Tables.Count, _options.MaxTables, nameof(WasmEngineOptions.MaxTables), at);
        }
    }

    private static GlobalType ReadGlobalType(ref WasmReader r)
    {
        var type = r.ReadValueType();
        var mut = r.ReadByte();
        if (mut > 1)
        {
            throw WasmReader.Malformed("malformed mutability", r.Position - 1);
        }

        return new GlobalType(type, mut == 1);
    }

    private int ReadFunctions(ref WasmReader r, ModuleDefinition m)
    {
        var count = ReadCount(ref r, _options.MaxFunctions, "function count", nameof(WasmEngineOptions.MaxFunctions));
        for (var i = 0; i < count; i++)
        {
            Checkpoint(i);
            m.FunctionTypes.Add(r.ReadIndex());
        }

        CheckCounts(m, r.Position);
        return count;
    }

    private void ReadTables(ref WasmReader r, ModuleDefinition m)
    {
        var count = ReadCount(ref r, _options.MaxTables, "table count", nameof(WasmEngineOptions.MaxTables));
        for (var i = 0; i < count; i++)
        {
            Checkpoint(i);
            m.Tables.Add(new TableType(r.ReadReferenceType(), ReadLimits(ref r, false)));
        }

        CheckCounts(m, r.Position);
    }

    private static void ReadMemories(ref WasmReader r, ModuleDefinition m)
    {
        var count = r.ReadU32();
        if (count > 1 || count > (uint)(r.End - r.Position))
        {
            // Validation reports "multiple memories" for count 2+ when the bytes are there.
            if (count > (uint)(r.End - r.Position))
            {
                throw WasmReader.Malformed("unexpected end", r.Position);
            }
        }

        for (var i = 0; i < count; i++)
        {
            m.Memories.Add(ReadLimits(ref r, true));
        }
    }

    private void ReadGlobals(ref WasmReader r, ModuleDefinition m)
    {
        var count = ReadCount(ref r, _options.MaxGlobals, "global count", nameof(WasmEngineOptions.MaxGlobals));
        for (var i = 0; i < count; i++)
        {
            Checkpoint(i);
            m.Globals.Add(ReadGlobalType(ref r));
            m.GlobalInitializers.Add(ReadConstant(ref r));
        }

        CheckCounts(m, r.Position);
    }

    private void ReadExports(ref WasmReader r, ModuleDefinition m)
    {
        var count = ReadCount(ref r, _options.MaxExports, "export count", nameof(WasmEngineOptions.MaxExports));
        for (var i = 0; i < count; i++)
        {
            Checkpoint(i);
            var name = r.ReadName();
            var kind = r.ReadByte();
            if (kind > 3)
            {
                throw WasmReader.Malformed("malformed export kind", r.Position - 1);
            }

            m.Exports.Add(new ExportDescriptor(name, (WasmExternKind)kind, r.ReadIndex()));
        }
    }

    /// <summary>Reads one constant expression. Type checks (and constness of globals) happen in validation.</summary>
    internal static ConstantExpression ReadConstant(ref WasmReader r)
    {
        var at = r.Position;
        var op = r.ReadByte();
        ConstantExpression result = op switch
        {
            0x41 => new ConstantExpression(ConstantKind.Value, WasmValueType.I32, (uint)r.ReadS32(), 0),
            0x42 => new ConstantExpression(ConstantKind.Value, WasmValueType.I64, (ulong)r.ReadS64(), 0),
            0x43 => new ConstantExpression(ConstantKind.Value, WasmValueType.F32, r.ReadFixed32(), 0),
            0x44 => new ConstantExpression(ConstantKind.Value, WasmValueType.F64, r.ReadFixed64(), 0),
            0x23 => new ConstantExpression(ConstantKind.GlobalGet, WasmValueType.Unknown, 0, r.ReadIndex()),
            0xD0 => new ConstantExpression(ConstantKind.RefNull, r.ReadReferenceType(), 0, 0),
            0xD2 => new ConstantExpression(ConstantKind.RefFunc, WasmValueType.FuncRef, 0, r.ReadIndex()),
            0x0B => throw new WasmValidationException("type mismatch: empty constant expression"),
            _ => throw new WasmValidationException($"constant expression required (opcode 0x{op:X2} at {at})"),
        };
        var end = r.ReadByte();
        if (end != 0x0B)
        {
            // A second instruction: either a non-constant one or too many values.
            throw end is 0x41 or 0x42 or 0x43 or 0x44 or 0x23 or 0xD0 or 0xD2
                ? new WasmValidationException("type mismatch: constant expression leaves more than one value")
                : new WasmValidationException("constant expression required");
        }

        return result;
    }

    private void ReadElements(ref WasmReader r, ModuleDefinition m)
    {
        var count = ReadCount(ref r, _options.MaxSegments, "element segment count", nameof(WasmEngineOptions.MaxSegments));
        for (var i = 0; i < count; i++)
        {
            Checkpoint(i);
            var flagsAt = r.Position;
            var flags = r.ReadU32();
            if (flags > 7)
            {
                throw WasmReader.Malformed("malformed elements segment kind", flagsAt);
            }

            var mode = (flags & 1) == 0 ? SegmentMode.Active : (flags & 2) == 0 ? SegmentMode.Passive : SegmentMode.Declarative;
            var table = 0;
            var offset = default(ConstantExpression);
            if (mode == SegmentMode.Active)
            {
                if ((flags & 2) != 0)
                {
                    table = r.ReadIndex();
                }

                offset = ReadConstant(ref r);
            }

            var usesExpressions = (flags & 4) != 0;
            var type = WasmValueType.FuncRef;
            if ((flags & 3) != 0)
            {
                // Flags 1, 2, 3, 5, 6, 7 carry an explicit elemkind (0x00 = funcref) or reference type.
                if (usesExpressions)
                {
                    type = r.ReadReferenceType();
                }
                else if (r.ReadByte() != 0x00)
                {
                    throw WasmReader.Malformed("malformed elements segment kind", r.Position - 1);
                }
            }

            var n = ReadCount(ref r, _options.MaxTableElements, "element segment length", nameof(WasmEngineOptions.MaxTableElements));
            var items = new ConstantExpression[n];
            for (var j = 0; j < n; j++)
            {
                Checkpoint(j);
                items[j] = usesExpressions ? ReadConstant(ref r) : new ConstantExpression(ConstantKind.RefFunc, WasmValueType.FuncRef, 0, r.ReadIndex());
            }

            m.Elements.Add(new ElementSegment(mode, table, offset, type, items));
        }
    }

    private void ReadCode(ref WasmReader r, ModuleDefinition m, int functionCount)
    {
        var count = ReadCount(ref r, _options.MaxFunctions, "code entry count", nameof(WasmEngineOptions.MaxFunctions));
        if (count != Math.Max(functionCount, 0))
        {
            throw WasmReader.Malformed("function and code section have inconsistent lengths", r.Position);
        }

        long moduleLocals = 0;
        for (var i = 0; i < count; i++)
        {
            Checkpoint(i);
            var sizeAt = r.Position;
            var size = r.ReadIndex();
            if (size > _options.MaxFunctionBodyBytes)
            {
                throw Limit($"function body {i} size", size, _options.MaxFunctionBodyBytes, nameof(WasmEngineOptions.MaxFunctionBodyBytes), sizeAt);
            }

            if (size > r.End - r.Position)
            {
                throw WasmReader.Malformed("unexpected end of section or function", sizeAt);
            }

            var body = new WasmReader(_bytes, r.Position, r.Position + size);
            var groups = body.ReadU32();
            var groupStart = body.Position;
            long total = 0;

            // First pass sums the groups so a hostile "2^32 locals" declaration is refused before allocation.
            for (var g = 0u; g < groups; g++)
            {
                total += body.ReadU32();
                _ = body.ReadValueType();
                if (total > _options.MaxLocals)
                {
                    throw total > uint.MaxValue
                        ? WasmReader.Malformed("too many locals", sizeAt)
                        : new WasmDecodeException($"too many locals: {total} exceeds the cap of {_options.MaxLocals} (MaxLocals)") { IsLimit = true, Offset = sizeAt };
                }
            }

            // The module-wide sum too, before this function's locals are allocated: many functions each under
            // MaxLocals must not add up to a host memory bomb.
            moduleLocals += total;
            if (moduleLocals > _options.MaxTotalLocals)
            {
                throw new WasmDecodeException($"too many locals in the module: {moduleLocals} declared by its first {i + 1} functions exceeds the cap of {_options.MaxTotalLocals} (MaxTotalLocals)") { IsLimit = true, Offset = sizeAt };
            }

            var locals = new WasmValueType[total];
            body.Position = groupStart;
            var k = 0;
            for (var g = 0u; g < groups; g++)
            {
                var n = body.ReadU32();
                var t = body.ReadValueType();
                locals.AsSpan(k, (int)n).Fill(t);
                k += (int)n;
            }

            m.Bodies.Add(new FunctionBody(locals, body.Position, body.End));
            r.Position = body.End;
        }
    }

    private void ReadData(ref WasmReader r, ModuleDefinition m)
    {
        var count = ReadCount(ref r, _options.MaxSegments, "data segment count", nameof(WasmEngineOptions.MaxSegments));
        for (var i = 0; i < count; i++)
        {
            Checkpoint(i);
            var flagsAt = r.Position;
            var flags = r.ReadU32();
            var memory = 0;
            var offset = default(ConstantExpression);
            SegmentMode mode;
            switch (flags)
            {
                case 0:
                    mode = SegmentMode.Active;
                    offset = ReadConstant(ref r);
                    break;
                case 1:
                    mode = SegmentMode.Passive;
                    break;
                case 2:
                    mode = SegmentMode.Active;
                    memory = r.ReadIndex();
                    offset = ReadConstant(ref r);
                    break;
                default:
                    throw WasmReader.Malformed("malformed data segment kind", flagsAt);
            }

            var length = r.ReadIndex();
            m.Data.Add(new DataSegment(mode, memory, offset, r.ReadBytes(length).ToArray()));
        }
    }
}
