namespace Sandbox.Wasm.Execution;

/// <summary>
/// Where the IL tier reads guest constants from, instead of embedding them as IL literals. RyuJIT folds
/// literal floating-point operands algebraically (<c>x * 1.0</c> to <c>x</c>, <c>x - 0.0</c> to <c>x</c>), which
/// is IEEE-correct for every value except a signalling NaN: WebAssembly requires such a result to be a quiet
/// (arithmetic) NaN, and the spec tests (float_exprs) caught the folded version passing the sNaN through.
/// A load from an array element is never a JIT-time constant, so nothing is folded; the JIT still hoists it out of loops.
/// Values are deduplicated, so the pool grows with the number of distinct constants, not with compilations.
/// </summary>
internal static class ConstantPool
{
    private static readonly Lock s_gate = new();
    private static readonly Dictionary<ulong, int> s_index = [];

    /// <summary>Every value so far; replaced (never mutated in place below its length) when it grows, so readers need no lock.</summary>
    public static ulong[] Values = new ulong[256];

    /// <summary>The index of <paramref name="value"/>, adding it when new; it is in <see cref="Values"/> before this returns.</summary>
    public static int IndexOf(ulong value)
    {
        lock (s_gate)
        {
            if (s_index.TryGetValue(value, out var index))
            {
                return index;
            }

            index = s_index.Count;
            var values = Values;
            if (index == values.Length)
            {
                var grown = new ulong[values.Length * 2];
                values.CopyTo(grown, 0);
                values = grown;
            }

            values[index] = value;
            Volatile.Write(ref Values, values);
            s_index[value] = index;
            return index;
        }
    }
}
