namespace Sandbox.Wasm.Decoding;

/// <summary>
/// Reads only what a module's first memory needs at instantiation (its initial pages), skipping every other
/// section, so the service can tell before a run whether a guest fits the request's <c>memoryBytes</c> without
/// decoding the whole module.
/// </summary>
internal static class MemoryMinimumProbe
{
    private const byte ImportSection = 2;
    private const byte MemorySection = 5;

    /// <summary>The initial linear memory in bytes; 0 when the module has no memory; null when it cannot be read.</summary>
    public static long? InitialMemoryBytes(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length < 8)
        {
            return null;
        }

        try
        {
            var r = new WasmReader(bytes, 8, bytes.Length);
            while (!r.AtEnd)
            {
                var id = r.ReadByte();
                var size = r.ReadIndex();
                var end = checked(r.Position + size);
                if (end > bytes.Length)
                {
                    return null;
                }

                var section = new WasmReader(bytes, r.Position, end);
                if (id == ImportSection && ImportedMemoryPages(ref section) is { } imported)
                {
                    return imported * WasmMemory.PageSize;
                }

                if (id == MemorySection)
                {
                    return section.ReadIndex() == 0 ? 0 : ReadMinimum(ref section) * WasmMemory.PageSize;
                }

                r.Position = end;
            }

            return 0;
        }
        catch (Exception e) when (e is WasmDecodeException or OverflowException or ArgumentException)
        {
            return null;
        }
    }

    private static long? ImportedMemoryPages(ref WasmReader r)
    {
        var count = r.ReadIndex();
        for (var i = 0; i < count; i++)
        {
            r.ReadName();
            r.ReadName();
            switch (r.ReadByte())
            {
                case 0: // function: a type index
                    r.ReadU32();
                    break;
                case 1: // table: a reference type and limits
                    r.ReadByte();
                    ReadMinimum(ref r);
                    break;
                case 2: // memory
                    return ReadMinimum(ref r);
                case 3: // global: a value type and mutability
                    r.ReadByte();
                    r.ReadByte();
                    break;
                default:
                    throw WasmReader.Malformed("unknown import kind", r.Position - 1);
            }
        }

        return null;
    }

    private static long ReadMinimum(ref WasmReader r)
    {
        var flag = r.ReadByte();
        var min = r.ReadU32();
        if ((flag & 1) != 0)
        {
            r.ReadU32();
        }

        return min;
    }
}
