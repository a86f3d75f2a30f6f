using Sandbox.Wasm.Decoding;

namespace Sandbox.Wasm;

/// <summary>A table of references (function handles or extern handles; 0 is null).</summary>
public sealed class WasmTable : WasmExtern
{
    internal WasmTable(TableType type, int maxElementsCap, ulong initial = 0)
    {
        if (type.Limits.Min > (uint)maxElementsCap)
        {
            throw new WasmLinkException($"table minimum of {type.Limits.Min} elements exceeds the cap of {maxElementsCap} (MaxTableElements)");
        }

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
            GrowRefusedByCap = true;
            return -1;
        }

        if (wanted > (ulong)Elements.Length)
        {
            var capacity = (int)Math.Min(Math.Max(wanted, (ulong)Elements.Length * 2), (ulong)MaxElementsCap);
            Array.Resize(ref Elements, capacity);
        }

        Elements.AsSpan(Length, (int)delta).Fill(initial);
        Length = (int)wanted;
        Type = Type with { Limits = Type.Limits with { Min = (uint)wanted } };
        return (int)old;
    }
}
