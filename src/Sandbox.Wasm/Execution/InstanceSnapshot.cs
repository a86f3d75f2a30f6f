namespace Sandbox.Wasm.Execution;

/// <summary>
/// An instance paused inside a host call: linear memory, mutable globals, tables (functions by index, never by the
/// engine's handles), which segments were dropped, and the interpreter's call state (<see cref="ExecutionState"/>).
/// Restored into a fresh instance of the same module in another engine, it continues as the original would have.
/// Single memory only (the engine supports no more). The binary form is plain: integrity is the container's job
/// (<see cref="Worker.GuestSnapshotFile"/>), and <see cref="Read"/> bounds every count before allocating.
/// </summary>
internal sealed class InstanceSnapshot
{
    private const int PageSize = WasmMemory.PageSize;

    private InstanceSnapshot(int pages, ReadOnlyMemory<byte>[] memoryPages, ulong[] globals, int[][] tables, bool[] dataDropped, bool[] elementsDropped, ExecutionState execution)
    {
        Pages = pages;
        MemoryPages = memoryPages;
        Globals = globals;
        Tables = tables;
        DataDropped = dataDropped;
        ElementsDropped = elementsDropped;
        Execution = execution;
    }

    /// <summary>Linear memory size in pages.</summary>
    public int Pages { get; }

    /// <summary>Each page's bytes, or empty for a page of zeros. A snapshot read from bytes points into them (no copy).</summary>
    public ReadOnlyMemory<byte>[] MemoryPages { get; }

    public ulong[] Globals { get; }

    /// <summary>Each table's elements: 0 for null, else 1 + the function's index in the instance.</summary>
    public int[][] Tables { get; }

    public bool[] DataDropped { get; }

    public bool[] ElementsDropped { get; }

    public ExecutionState Execution { get; }

    /// <summary>The instance as it is now, inside a host call; null (and why) when it cannot be captured.</summary>
    public static InstanceSnapshot? Capture(WasmInstance instance, out string? why)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var engine = instance.Engine;
        if (engine.Interpreter.CaptureExecution(instance, out why) is not { } execution)
        {
            return null;
        }

        if (instance.Tables.Any(t => t.ElementType != WasmValueType.FuncRef) || instance.Module.Definition.ImportedGlobalCount > 0
            || instance.Module.Definition.Memories.Count + instance.Module.Definition.Imports.Count(i => i.Kind == WasmExternKind.Memory) > 1
            || instance.Module.Definition.Imports.Any(i => i.Kind is WasmExternKind.Memory or WasmExternKind.Table))
        {
            why = "imported memories, tables or globals, or externref tables, are shared with the host and cannot be captured";
            return null;
        }

        var indexes = new Dictionary<WasmFunction, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < instance.Functions.Length; i++)
        {
            indexes.TryAdd(instance.Functions[i], i);
        }

        var tables = new int[instance.Tables.Length][];
        for (var t = 0; t < tables.Length; t++)
        {
            var table = instance.Tables[t];
            var elements = new int[table.Length];
            for (var e = 0; e < elements.Length; e++)
            {
                var handle = table.Elements[e];
                if (handle == 0)
                {
                    continue;
                }

                if (!indexes.TryGetValue(engine.FunctionsByHandle[(int)handle - 1], out var index))
                {
                    why = "a table holds a function of another instance";
                    return null;
                }

                elements[e] = index + 1;
            }

            tables[t] = elements;
        }

        var memory = instance.Memory0;
        var pages = memory?.Pages ?? 0;
        var memoryPages = new ReadOnlyMemory<byte>[pages];
        for (var p = 0; p < pages; p++)
        {
            var page = memory!.Buffer.AsSpan(p * PageSize, PageSize);
            memoryPages[p] = page.ContainsAnyExcept((byte)0) ? page.ToArray() : ReadOnlyMemory<byte>.Empty;
        }

        var definition = instance.Module.Definition;
        return new InstanceSnapshot(
            pages,
            memoryPages,
            [.. instance.Globals.Select(g => g.Bits)],
            tables,
            [.. instance.DataSegments.Select((d, i) => d.Length == 0 && definition.Data[i].Bytes.Length > 0)],
            [.. instance.ElementSegments.Select((e, i) => e.Length == 0 && definition.Elements[i].Items.Length > 0)],
            execution);
    }

    /// <summary>
    /// Puts this state into <paramref name="instance"/>, freshly instantiated from the same module, and continues it:
    /// the interrupted host call is made again, then the guest runs on as it would have. Refuses a snapshot that does
    /// not fit the instance before anything runs (<see cref="InvalidDataException"/>).
    /// </summary>
    public void Resume(WasmInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var engine = instance.Engine;
        var memory = instance.Memory0;
        if (Globals.Length != instance.Globals.Length || Tables.Length != instance.Tables.Length
            || DataDropped.Length != instance.DataSegments.Length || ElementsDropped.Length != instance.ElementSegments.Length
            || (memory is null ? Pages != 0 : Pages < memory.Pages))
        {
            throw new InvalidDataException("the snapshot does not fit the module's memory, globals, tables or segments");
        }

        for (var g = 0; g < Globals.Length; g++)
        {
            var global = instance.Globals[g];
            if (!global.Mutable && global.Bits != Globals[g])
            {
                throw new InvalidDataException($"the snapshot changes immutable global {g}");
            }

            global.Bits = Globals[g];
        }

        for (var t = 0; t < Tables.Length; t++)
        {
            var table = instance.Tables[t];
            var elements = Tables[t];
            if (elements.Length < table.Length || (elements.Length > table.Length && table.Grow((uint)(elements.Length - table.Length), 0) < 0))
            {
                throw new InvalidDataException($"table {t} of the snapshot does not fit the engine's caps");
            }

            for (var e = 0; e < elements.Length; e++)
            {
                var index = elements[e];
                if ((uint)index > (uint)instance.Functions.Length)
                {
                    throw new InvalidDataException($"table {t} of the snapshot names a function the module does not have");
                }

                table.Elements[e] = index == 0 ? 0 : instance.Functions[index - 1].Handle;
            }
        }

        if (memory is not null)
        {
            // Consumed here: once the snapshot is in, the memory is the guest's.
            var zero = instance.MemoryIsZero;
            instance.MemoryIsZero = false;
            if (Pages > memory.Pages && memory.Grow((uint)(Pages - memory.Pages)) < 0)
            {
                throw new InvalidDataException("the snapshot's memory does not fit the engine's caps");
            }

            for (var p = 0; p < Pages; p++)
            {
                var page = memory.Buffer.AsSpan(p * PageSize, PageSize);
                if (MemoryPages[p].Length == 0)
                {
                    // A page never written is left alone: writing zeros would fault in (and commit) memory the guest may
                    // never touch, and even reading it (when the memory may hold data) maps the kernel's zero page.
                    if (!zero && page.ContainsAnyExcept((byte)0))
                    {
                        page.Clear();
                    }
                }
                else
                {
                    MemoryPages[p].Span.CopyTo(page);
                }
            }
        }

        for (var i = 0; i < DataDropped.Length; i++)
        {
            if (DataDropped[i])
            {
                instance.DataSegments[i] = [];
            }
        }

        for (var i = 0; i < ElementsDropped.Length; i++)
        {
            if (ElementsDropped[i])
            {
                instance.ElementSegments[i] = [];
            }
        }

        engine.Interpreter.Resume(instance, Execution);
    }

    public void Write(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Pages);
        for (var p = 0; p < Pages; p++)
        {
            writer.Write(MemoryPages[p].Length != 0);
            writer.Write(MemoryPages[p].Span);
        }

        WriteArray(writer, Globals, writer.Write);
        writer.Write(Tables.Length);
        foreach (var table in Tables)
        {
            WriteArray(writer, table, writer.Write);
        }

        WriteArray(writer, DataDropped, writer.Write);
        WriteArray(writer, ElementsDropped, writer.Write);
        WriteArray(writer, Execution.Frames, f =>
        {
            writer.Write(f.Function);
            writer.Write(f.Pc);
            writer.Write(f.Fp);
        });
        writer.Write(Execution.Callee);
        writer.Write(Execution.CalleeFp);
        WriteArray(writer, Execution.Stack, writer.Write);
    }

    /// <summary>Reads what <see cref="Write"/> wrote; every count is bounded by <paramref name="maxPages"/> or the bytes left.</summary>
    public static InstanceSnapshot Read(BinaryReader reader, int maxPages)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var pages = reader.ReadInt32();
        if (pages < 0 || pages > maxPages)
        {
            throw new InvalidDataException($"the snapshot's memory of {pages} pages is past the cap of {maxPages}");
        }

        var memoryPages = new ReadOnlyMemory<byte>[pages];
        for (var p = 0; p < pages; p++)
        {
            memoryPages[p] = reader.ReadBoolean() ? Exactly(reader, PageSize) : ReadOnlyMemory<byte>.Empty;
        }

        var globals = ReadArray(reader, 8, reader.ReadUInt64);
        var tables = new int[Count(reader, 4)][];
        for (var t = 0; t < tables.Length; t++)
        {
            tables[t] = ReadArray(reader, 4, reader.ReadInt32);
        }

        var dataDropped = ReadArray(reader, 1, reader.ReadBoolean);
        var elementsDropped = ReadArray(reader, 1, reader.ReadBoolean);
        var frames = ReadArray(reader, 12, () => new FrameState(reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32()));
        var callee = reader.ReadInt32();
        var calleeFp = reader.ReadInt32();
        var stack = ReadArray(reader, 8, reader.ReadUInt64);
        return new InstanceSnapshot(pages, memoryPages, globals, tables, dataDropped, elementsDropped, new ExecutionState(frames, callee, calleeFp, stack));
    }

    private static void WriteArray<T>(BinaryWriter writer, T[] items, Action<T> write)
    {
        writer.Write(items.Length);
        foreach (var item in items)
        {
            write(item);
        }
    }

    private static T[] ReadArray<T>(BinaryReader reader, int itemBytes, Func<T> read)
    {
        var items = new T[Count(reader, itemBytes)];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = read();
        }

        return items;
    }

    /// <summary>A count no larger than the bytes left could hold: a corrupt length allocates nothing big.</summary>
    private static int Count(BinaryReader reader, int itemBytes)
    {
        var count = reader.ReadInt32();
        if (count < 0 || (long)count * itemBytes > reader.BaseStream.Length - reader.BaseStream.Position)
        {
            throw new InvalidDataException("a count in the snapshot is past its end");
        }

        return count;
    }

    /// <summary>The next <paramref name="length"/> bytes: a view of the reader's buffer when it exposes one (a 4.6 MB CPython snapshot is then not copied twice), else a copy.</summary>
    private static ReadOnlyMemory<byte> Exactly(BinaryReader reader, int length)
    {
        var stream = reader.BaseStream;
        if (stream is MemoryStream memory && memory.TryGetBuffer(out var buffer))
        {
            var at = (int)memory.Position;
            if (length > buffer.Count - at)
            {
                throw new InvalidDataException("the snapshot ends inside a memory page");
            }

            memory.Position = at + length;
            return buffer.AsMemory(at, length);
        }

        var bytes = reader.ReadBytes(length);
        return bytes.Length == length ? bytes : throw new InvalidDataException("the snapshot ends inside a memory page");
    }
}
