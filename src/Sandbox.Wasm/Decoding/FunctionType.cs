namespace Sandbox.Wasm.Decoding;

/// <summary>A function signature. Structural equality: call_indirect compares types by shape.</summary>
internal sealed class FunctionType : IEquatable<FunctionType>
{
    public FunctionType(WasmValueType[] parameters, WasmValueType[] results)
    {
        Parameters = parameters;
        Results = results;
    }

    public WasmValueType[] Parameters { get; }

    public WasmValueType[] Results { get; }

    public bool Equals(FunctionType? other) =>
        other is not null && Parameters.AsSpan().SequenceEqual(other.Parameters) && Results.AsSpan().SequenceEqual(other.Results);

    public override bool Equals(object? obj) => obj is FunctionType t && Equals(t);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (var p in Parameters)
        {
            hash.Add(p);
        }

        hash.Add(-1);
        foreach (var r in Results)
        {
            hash.Add(r);
        }

        return hash.ToHashCode();
    }

    public override string ToString() => $"[{string.Join(' ', Parameters)}] -> [{string.Join(' ', Results)}]";
}
