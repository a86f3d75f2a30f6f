using System.Globalization;

namespace Sandbox.Server.Metrics;

/// <summary>
/// A lock-free histogram: one counter per bucket (not cumulative; <see cref="Write"/> sums them at scrape
/// time) and a running sum. Safe to observe from any number of threads while a scrape reads it.
/// </summary>
internal sealed class Histogram
{
    private readonly double[] _upperBounds;
    private readonly long[] _counts; // one per upper bound, plus the last for +Inf
    private long _sumBits; // a double, kept as bits so Interlocked can update it

    /// <param name="upperBounds">Finite, strictly increasing bucket bounds; +Inf is implied.</param>
    public Histogram(double[] upperBounds)
    {
        for (var i = 0; i < upperBounds.Length; i++)
        {
            if (!double.IsFinite(upperBounds[i]) || (i > 0 && upperBounds[i] <= upperBounds[i - 1]))
            {
                throw new ArgumentException("bucket bounds must be finite and strictly increasing", nameof(upperBounds));
            }
        }

        _upperBounds = upperBounds;
        _counts = new long[upperBounds.Length + 1];
    }

    /// <summary>Counts <paramref name="value"/> in the first bucket whose bound is at least it (Prometheus buckets are <c>le</c>).</summary>
    public void Observe(double value)
    {
        var index = Array.BinarySearch(_upperBounds, value);
        if (index < 0)
        {
            index = ~index; // the first bound greater than the value, or _upperBounds.Length for +Inf
        }

        Interlocked.Increment(ref _counts[index]);

        // A compare-and-swap loop: Interlocked has no Add for double.
        var current = Interlocked.Read(ref _sumBits);
        while (true)
        {
            var updated = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(current) + value);
            var seen = Interlocked.CompareExchange(ref _sumBits, updated, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>
    /// Writes the cumulative <c>_bucket</c> series (with <c>le</c> last, after <paramref name="labels"/>), <c>_sum</c>
    /// and <c>_count</c>. The count is the +Inf bucket read in the same pass, so the two always agree even
    /// while other threads observe; the sum may include an observation the buckets do not yet show.
    /// </summary>
    public void Write(PrometheusTextWriter writer, string name, ReadOnlySpan<KeyValuePair<string, string>> labels)
    {
        var withLe = new KeyValuePair<string, string>[labels.Length + 1];
        labels.CopyTo(withLe);
        var cumulative = 0L;
        for (var i = 0; i < _counts.Length; i++)
        {
            cumulative += Interlocked.Read(ref _counts[i]);
            var le = i < _upperBounds.Length ? _upperBounds[i].ToString("R", CultureInfo.InvariantCulture) : "+Inf";
            withLe[^1] = new("le", le);
            writer.WriteSample(name + "_bucket", withLe, cumulative);
        }

        writer.WriteSample(name + "_sum", labels, BitConverter.Int64BitsToDouble(Interlocked.Read(ref _sumBits)));
        writer.WriteSample(name + "_count", labels, cumulative);
    }
}
