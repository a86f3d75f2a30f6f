using Sandbox.Wasm.Decoding;

namespace Sandbox.Wasm;

/// <summary>A table of references (function handles or extern handles; 0 is null).</summary>
public sealed class WasmTable : WasmExtern
{
    /// <summary>Bytes one element takes on the host (a handle).</summary>
    internal const int ElementBytes = sizeof(ulong);

    private readonly MemoryBudget _budget;

    internal WasmTable(TableType type, int maxElementsCap, MemoryBudget budget, ulong initial = 0)
    {
        if (type.Limits.Min > (uint)maxElementsCap)
        {
            throw new WasmLinkException($"table minimum of {type.Limits.Min} elements exceeds the cap of {maxElementsCap} (MaxTableElements)") { ExceedsMemoryLimit = true };
        }

        // Tables count against the same budget as linear memory, charged before the array exists.
        var bytes = (long)type.Limits.Min * ElementBytes;
        if (!budget.TryAllocate(bytes, table: true))
        {
            throw new WasmLinkException($"table minimum of {type.Limits.Min} elements ({bytes} bytes) does not fit in {budget.Describe(table: true)}") { ExceedsMemoryLimit = true };
        }

        budget.AddVisible(bytes);
        _budget = budget;
        Type = type;
        MaxElementsCap = maxElementsCap;
        Length = (int)type.Limits.Min;
        Elements = new ulong[Length];
        if (initial != 0)
        {
            Array.Fill(Elements, initial);
        }
    }

    public override WasmExternKind Kind => WasmExternKind.Table;

    public WasmValueType ElementType => Type.ElementType;

    /// <summary>True once a table.grow was refused because of the host cap (not the module's own maximum).</summary>
    public bool GrowRefusedByCap { get; private set; }

    internal TableType Type { get; private set; }

    internal int MaxElementsCap { get; }

    internal ulong[] Elements;

    internal int Length;

    /// <summary>Grows by <paramref name="delta"/> elements set to <paramref name="initial"/>; returns the old size or -1.</summary>
    internal int Grow(uint delta, ulong initial)
    {
        var old = (uint)Length;
        var wanted = (ulong)old + delta;
        if (wanted > (Type.Limits.Max ?? uint.MaxValue))
        {
            return -1;
        }

        if (wanted > (ulong)MaxElementsCap)
        {
            return RefuseByCap();
        }

        if (wanted > (ulong)Elements.Length)
        {
            // Geometric slack only as far as the engine's budget allows; refused when even the exact size does not fit.
            var capacity = (int)Math.Min(Math.Max(wanted, (ulong)Elements.Length * 2), (ulong)MaxElementsCap);
            capacity = Elements.Length + (int)Math.Min(capacity - Elements.Length, Math.Max(0, _budget.Available(table: true)) / ElementBytes);
            if ((ulong)capacity < wanted || !_budget.TryAllocate((long)(capacity - Elements.Length) * ElementBytes, table: true))
            {
                return RefuseByCap();
            }

            Array.Resize(ref Elements, capacity);
        }

        _budget.AddVisible((long)delta * ElementBytes);
        Elements.AsSpan(Length, (int)delta).Fill(initial);
        Length = (int)wanted;
        Type = Type with { Limits = Type.Limits with { Min = (uint)wanted } };
        return (int)old;
    }

    private int RefuseByCap()
    {
        GrowRefusedByCap = true;
        _budget.GrowRefusedByCap = true;
        return -1;
    }
}
