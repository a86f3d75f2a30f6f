using Sandbox.Wasm.Decoding;

namespace Sandbox.Wasm;

/// <summary>
/// A linear memory. The backing array may be larger than the guest-visible size (<see cref="ByteLength"/>):
/// it grows geometrically so a guest that grows one page at a time (malloc via sbrk) does not copy the whole
/// memory on every grow. Every access is bounds-checked against <see cref="ByteLength"/>, never the array.
/// </summary>
public sealed class WasmMemory : WasmExtern
{
    /// <summary>Bytes per WebAssembly page.</summary>
    public const int PageSize = 65536;

    private readonly MemoryBudget _budget;

    internal WasmMemory(Limits limits, int maxPagesCap, MemoryBudget budget)
    {
        if (limits.Min > (uint)maxPagesCap)
        {
            throw new WasmLinkException($"memory minimum of {limits.Min} pages exceeds the cap of {maxPagesCap} pages (MaxMemoryPages)") { ExceedsMemoryLimit = true };
        }

        // Charged before the array exists: a minimum past the shared budget allocates nothing.
        var bytes = (long)limits.Min * PageSize;
        if (!budget.TryAllocate(bytes, table: false))
        {
            throw new WasmLinkException($"memory minimum of {bytes} bytes does not fit in {budget.Describe(table: false)}") { ExceedsMemoryLimit = true };
        }

        budget.AddVisible(bytes);
        _budget = budget;
        Limits = limits;
        MaxPagesCap = maxPagesCap;
        ByteLength = (int)limits.Min * PageSize;
        Buffer = new byte[ByteLength];
    }

    public override WasmExternKind Kind => WasmExternKind.Memory;

    /// <summary>Current size in pages.</summary>
    public int Pages => ByteLength / PageSize;

    /// <summary>True once a memory.grow was refused because of the host cap (not the module's own maximum).</summary>
    public bool GrowRefusedByCap { get; private set; }

    /// <summary>The guest-visible bytes.</summary>
    public Span<byte> Span => Buffer.AsSpan(0, ByteLength);

    internal Limits Limits { get; private set; }

    internal int MaxPagesCap { get; }

    internal byte[] Buffer;

    internal int ByteLength;

    /// <summary>Grows by <paramref name="deltaPages"/>; returns the old size in pages, or -1 (spec memory.grow).</summary>
    public int Grow(uint deltaPages)
    {
        var old = (uint)Pages;
        var wanted = (ulong)old + deltaPages;
        var declaredMax = Limits.Max ?? 65536u;
        if (wanted > declaredMax)
        {
            return -1;
        }

        if (wanted > (ulong)MaxPagesCap)
        {
            return RefuseByCap();
        }

        var newLength = (int)wanted * PageSize;
        if (newLength > Buffer.Length)
        {
            // Geometric slack only as far as the engine's budget allows; refused when even the exact size does not fit.
            var capacity = Math.Max(newLength, (int)Math.Min((long)Buffer.Length * 2, (long)MaxPagesCap * PageSize));
            capacity = Buffer.Length + (int)Math.Min(capacity - Buffer.Length, Math.Max(0, _budget.Available(table: false)));
            if (capacity < newLength || !_budget.TryAllocate(capacity - Buffer.Length, table: false))
            {
                return RefuseByCap();
            }

            var bigger = new byte[capacity];
            System.Buffer.BlockCopy(Buffer, 0, bigger, 0, ByteLength);
            Buffer = bigger;
        }

        _budget.AddVisible(newLength - ByteLength);
        ByteLength = newLength;
        Limits = Limits with { Min = (uint)wanted };
        return (int)old;
    }

    private int RefuseByCap()
    {
        GrowRefusedByCap = true;
        _budget.GrowRefusedByCap = true;
        return -1;
    }
}
