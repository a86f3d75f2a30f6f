using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using Sandbox.Wasm.Decoding;
using Sandbox.Wasm.Validation;

namespace Sandbox.Wasm.Execution;

/// <summary>
/// A compiled module's image: its decoded definition and every translated body, written once per module and read back
/// without decoding, validating or translating again (the module cache of issue 13: once per module SHA-256, shared by
/// every run). The image is not the module: it holds no code bytes, only offsets into them, and a reader is given the
/// module's own bytes and their SHA-256 beside it.
/// <para>
/// Trust: an image is believed, not validated, so it must come from this engine build translating exactly these bytes
/// under the same limits: its header binds it to the engine build (the assembly's MVID), the module's SHA-256 and every
/// option the decoder and translator read, and a reader refuses any mismatch. What it cannot break is memory safety:
/// every structure it yields is managed and bounds-checked, so a corrupt image fails its run, in its sandbox, and no more.
/// Bodies not yet translated when it was written stay lazy, validated and translated at their first call as usual.
/// </para>
/// </summary>
internal static class ModuleImage
{
    /// <summary>The image's first bytes; its binding's digest follows.</summary>
    internal static ReadOnlySpan<byte> Magic => "SBXIMG01"u8;

    /// <summary>
    /// What an image of a module of <paramref name="moduleBytes"/> may need beside the module's own allowance: its bytes
    /// (16 bytes an instruction: about three times the module) once in the snapshot that carries them, while the bodies
    /// read from them (or, in the worker writing it, its own bodies) take as much again.
    /// </summary>
    public static long HeapBytes(long moduleBytes) => 4 * moduleBytes;

    /// <summary>The engine build: an image is never read by another build's translator.</summary>
    private static readonly Guid s_build = typeof(ModuleImage).Module.ModuleVersionId;

    /// <summary>Writes <paramref name="module"/>, compiled by <paramref name="options"/> from bytes <paramref name="binding"/> names.</summary>
    public static byte[] Write(WasmModule module, ReadOnlySpan<byte> binding, WasmEngineOptions options)
    {
        using var stream = new MemoryStream();
        Write(module, binding, options, stream);
        return stream.ToArray();
    }

    /// <summary>
    /// Writes <paramref name="module"/>, compiled by <paramref name="options"/>, to <paramref name="output"/>.
    /// <paramref name="binding"/> names the module's bytes: their SHA-256, or a digest that covers it (a snapshot's context).
    /// </summary>
    public static void Write(WasmModule module, ReadOnlySpan<byte> binding, WasmEngineOptions options, Stream output)
    {
        var w = new Writer(output);
        w.Bytes(Magic);
        w.Bytes(Context(binding, options));
        var m = module.Definition;
        w.Int(m.Types.Count);
        foreach (var type in m.Types)
        {
            w.Types(type.Parameters);
            w.Types(type.Results);
        }

        w.Int(m.Imports.Count);
        foreach (var import in m.Imports)
        {
            w.String(import.Module);
            w.String(import.Name);
            w.Byte((byte)import.Kind);
            w.Int(import.TypeIndex);
            w.Table(import.Table);
            w.Limits(import.Memory);
            w.Global(import.Global);
        }

        w.Ints(m.FunctionTypes);
        w.Int(m.Tables.Count);
        m.Tables.ForEach(w.Table);
        w.Int(m.Memories.Count);
        m.Memories.ForEach(w.Limits);
        w.Int(m.Globals.Count);
        m.Globals.ForEach(w.Global);
        w.Int(m.GlobalInitializers.Count);
        m.GlobalInitializers.ForEach(w.Constant);
        w.Int(m.Exports.Count);
        foreach (var export in m.Exports)
        {
            w.String(export.Name);
            w.Byte((byte)export.Kind);
            w.Int(export.Index);
        }

        w.Int(m.StartFunction ?? -1);
        w.Int(m.Elements.Count);
        foreach (var element in m.Elements)
        {
            w.Byte((byte)element.Mode);
            w.Int(element.TableIndex);
            w.Constant(element.Offset);
            w.Byte((byte)element.ElementType);
            w.Int(element.Items.Length);
            foreach (var item in element.Items)
            {
                w.Constant(item);
            }
        }

        w.Int(m.Data.Count);
        foreach (var data in m.Data)
        {
            w.Byte((byte)data.Mode);
            w.Int(data.MemoryIndex);
            w.Constant(data.Offset);
            w.Int(data.Bytes.Length);
            w.Bytes(data.Bytes);
        }

        w.Int(m.DataCount ?? -1);
        w.Int(m.ImportedFunctionCount);
        w.Int(m.ImportedTableCount);
        w.Int(m.ImportedMemoryCount);
        w.Int(m.ImportedGlobalCount);
        w.Int(m.Bodies.Count);
        for (var i = 0; i < m.Bodies.Count; i++)
        {
            var body = m.Bodies[i];
            w.Types(body.Locals);
            w.Int(body.CodeStart);
            w.Int(body.CodeEnd);
            var function = module.Functions[i];
            // Only a taking worker writes an image, of a module it compiled; one read from an image would write the bodies it
            // never called as untranslated (still correct: they are then translated at their first call).
            var translated = function.Pending is null;
            w.Byte(translated ? (byte)1 : (byte)0);
            if (translated)
            {
                w.Int(function.LocalCount);
                w.Int(function.MaxHeight);
                w.Int(function.EntryFuel);
                w.Int(function.Code.Length);
                w.Bytes(MemoryMarshal.AsBytes(function.Code.AsSpan()));
            }
        }
    }

    /// <summary>
    /// Reads an image of the module whose bytes are <paramref name="moduleBytes"/>, named by <paramref name="binding"/> as
    /// when it was written (the caller computed it from these bytes), for an engine of <paramref name="options"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The image is of another module, build or set of options, or is malformed.</exception>
    /// <remarks>
    /// The bodies are bounds-checked here, but copied out of <paramref name="image"/> only at each one's first call (so the
    /// module keeps the image's bytes): the caller must not change them afterwards.
    /// </remarks>
    public static WasmModule Read(byte[] moduleBytes, ReadOnlySpan<byte> binding, ReadOnlyMemory<byte> image, WasmEngineOptions options)
    {
        var r = new Reader(image.Span);
        if (!r.Bytes(Magic.Length).SequenceEqual(Magic))
        {
            throw new InvalidDataException("not a module image");
        }

        if (!r.Bytes(ContextBytes).SequenceEqual(Context(binding, options)))
        {
            throw new InvalidDataException("the module image is of another module, engine build or set of limits");
        }

        var m = new ModuleDefinition { Bytes = moduleBytes };
        for (var n = r.Count(); n > 0; n--)
        {
            m.Types.Add(new FunctionType(r.Types(), r.Types()));
        }

        for (var n = r.Count(); n > 0; n--)
        {
            m.Imports.Add(new ImportDescriptor(r.String(), r.String(), (WasmExternKind)r.Byte())
            {
                TypeIndex = r.Int(), Table = r.Table(), Memory = r.Limits(), Global = r.Global(),
            });
        }

        m.FunctionTypes.AddRange(r.Ints());
        for (var n = r.Count(); n > 0; n--)
        {
            m.Tables.Add(r.Table());
        }

        for (var n = r.Count(); n > 0; n--)
        {
            m.Memories.Add(r.Limits());
        }

        for (var n = r.Count(); n > 0; n--)
        {
            m.Globals.Add(r.Global());
        }

        for (var n = r.Count(); n > 0; n--)
        {
            m.GlobalInitializers.Add(r.Constant());
        }

        for (var n = r.Count(); n > 0; n--)
        {
            m.Exports.Add(new ExportDescriptor(r.String(), (WasmExternKind)r.Byte(), r.Int()));
        }

        m.StartFunction = r.Int() is var start and >= 0 ? start : null;
        for (var n = r.Count(); n > 0; n--)
        {
            var mode = (SegmentMode)r.Byte();
            var table = r.Int();
            var offset = r.Constant();
            var type = (WasmValueType)r.Byte();
            var items = new ConstantExpression[r.Count()];
            for (var i = 0; i < items.Length; i++)
            {
                items[i] = r.Constant();
            }

            m.Elements.Add(new ElementSegment(mode, table, offset, type, items));
        }

        for (var n = r.Count(); n > 0; n--)
        {
            var mode = (SegmentMode)r.Byte();
            var memory = r.Int();
            var offset = r.Constant();
            m.Data.Add(new DataSegment(mode, memory, offset, r.Bytes(r.Count()).ToArray()));
        }

        m.DataCount = r.Int() is var dataCount and >= 0 ? dataCount : null;
        m.ImportedFunctionCount = r.Int();
        m.ImportedTableCount = r.Int();
        m.ImportedMemoryCount = r.Int();
        m.ImportedGlobalCount = r.Int();
        var bodies = r.Count();
        var code = new (int LocalCount, int MaxHeight, int EntryFuel, Func<Instruction[]> Code)?[bodies];
        for (var i = 0; i < bodies; i++)
        {
            m.Bodies.Add(new FunctionBody(r.Types(), r.Int(), r.Int()));
            if (r.Byte() == 1)
            {
                var (locals, height, fuel) = (r.Int(), r.Int(), r.Int());
                var length = r.Count();
                var at = r.Position;
                // Bounds-checked now, with everything else, so a truncated image is refused before anything runs.
                r.Bytes(checked(length * Marshal.SizeOf<Instruction>()));
                var bytes = image.Slice(at, length * Marshal.SizeOf<Instruction>());
                code[i] = (locals, height, fuel, () =>
                {
                    var instructions = new Instruction[length];
                    bytes.Span.CopyTo(MemoryMarshal.AsBytes(instructions.AsSpan()));
                    return instructions;
                });
            }
        }

        if (!r.AtEnd || m.FunctionTypes.Count != m.ImportedFunctionCount + bodies || m.Bodies.Any(b => b.CodeStart < 0 || b.CodeEnd < b.CodeStart || b.CodeEnd > moduleBytes.Length))
        {
            throw new InvalidDataException("the module image is malformed");
        }

        return new WasmModule(m, ModuleValidator.Restore(m, options, code));
    }

    /// <summary>Bytes of the binding's digest after the magic.</summary>
    private const int ContextBytes = 16;

    /// <summary>
    /// XxHash128 over the engine build, the module's binding and every option the decoder and translator read. Not SHA-256:
    /// the digest tells one set of inputs from another, it proves nothing (whoever writes an image can write the right
    /// digest, as the reader computes it from public inputs), so a cryptographic hash bought nothing, and its first use loaded
    /// OpenSSL into every restoring worker, which nothing else there needs.
    /// </summary>
    private static byte[] Context(ReadOnlySpan<byte> binding, WasmEngineOptions o)
    {
        var limits = string.Join(',', o.MaxModuleBytes, o.MaxTypes, o.MaxFunctions, o.MaxImports, o.MaxExports, o.MaxGlobals, o.MaxTables,
            o.MaxSegments, o.MaxFunctionTypeArity, o.MaxFunctionBodyBytes, o.MaxLocals, o.MaxTotalLocals, o.MaxBlockDepth, o.MaxTableElements,
            o.FuseInstructions);
        var hash = new XxHash128();
        hash.Append(s_build.ToByteArray());
        hash.Append(binding);
        hash.Append(Encoding.UTF8.GetBytes(limits));
        return hash.GetHashAndReset();
    }

    private sealed class Writer(Stream output)
    {
        private readonly byte[] _scratch = new byte[8];

        public void Bytes(ReadOnlySpan<byte> bytes) => output.Write(bytes);

        public void Byte(byte value) => output.WriteByte(value);

        public void Int(int value)
        {
            BinaryPrimitives.WriteInt32LittleEndian(_scratch, value);
            output.Write(_scratch, 0, 4);
        }

        public void Long(ulong value)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(_scratch, value);
            output.Write(_scratch, 0, 8);
        }

        public void Ints(List<int> values)
        {
            Int(values.Count);
            Bytes(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(values)));
        }

        public void Types(WasmValueType[] types)
        {
            Int(types.Length);
            foreach (var type in types)
            {
                Byte((byte)type);
            }
        }

        public void String(string value)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            Int(bytes.Length);
            Bytes(bytes);
        }

        public void Limits(Limits limits)
        {
            Int((int)limits.Min);
            Long(limits.Max is { } max ? max : ulong.MaxValue);
        }

        public void Table(TableType table)
        {
            Byte((byte)table.ElementType);
            Limits(table.Limits);
        }

        public void Global(GlobalType global)
        {
            Byte((byte)global.ValueType);
            Byte(global.Mutable ? (byte)1 : (byte)0);
        }

        public void Constant(ConstantExpression constant)
        {
            Byte((byte)constant.Kind);
            Byte((byte)constant.Type);
            Long(constant.Value);
            Int(constant.Index);
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> image)
    {
        private readonly ReadOnlySpan<byte> _image = image;
        private int _at;

        public readonly bool AtEnd => _at == _image.Length;

        public readonly int Position => _at;

        public ReadOnlySpan<byte> Bytes(int count)
        {
            if (count < 0 || count > _image.Length - _at)
            {
                throw new InvalidDataException("the module image is truncated");
            }

            var span = _image.Slice(_at, count);
            _at += count;
            return span;
        }

        public byte Byte() => Bytes(1)[0];

        public int Int() => BinaryPrimitives.ReadInt32LittleEndian(Bytes(4));

        /// <summary>A count of what follows: never more than the bytes left could hold, so a bad one cannot allocate much.</summary>
        public int Count()
        {
            var count = Int();
            return count >= 0 && count <= _image.Length - _at ? count : throw new InvalidDataException("the module image is malformed");
        }

        public ulong Long() => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8));

        public int[] Ints() => MemoryMarshal.Cast<byte, int>(Bytes(checked(Count() * 4))).ToArray();

        public WasmValueType[] Types()
        {
            var types = new WasmValueType[Count()];
            for (var i = 0; i < types.Length; i++)
            {
                types[i] = (WasmValueType)Byte();
            }

            return types;
        }

        public string String() => Encoding.UTF8.GetString(Bytes(Count()));

        public Limits Limits()
        {
            var min = (uint)Int();
            var max = Long();
            return new Limits(min, max == ulong.MaxValue ? null : (uint)max);
        }

        public TableType Table() => new((WasmValueType)Byte(), Limits());

        public GlobalType Global() => new((WasmValueType)Byte(), Byte() == 1);

        public ConstantExpression Constant() => new((ConstantKind)Byte(), (WasmValueType)Byte(), Long(), Int());
    }
}
