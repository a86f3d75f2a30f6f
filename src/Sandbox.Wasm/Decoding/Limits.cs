namespace Sandbox.Wasm.Decoding;

/// <summary>Size limits of a memory (in pages) or table (in elements).</summary>
internal readonly record struct Limits(uint Min, uint? Max)
{
    /// <summary>Import matching (spec 2.0 "limits subtyping"): the provided limits fit the required ones.</summary>
    public bool IsSubtypeOf(Limits required) =>
        Min >= required.Min && (required.Max is null || (Max is not null && Max.Value <= required.Max.Value));
}
