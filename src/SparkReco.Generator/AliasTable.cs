namespace SparkReco.Generator;

/// <summary>
/// Walker/Vose alias table: O(1) sampling from a fixed discrete distribution. Used for every hot-path
/// draw (user activity, item popularity, time of day) so generation stays well above a million rows per
/// second. Built with plain arithmetic only, so tables are identical on every platform.
/// </summary>
internal sealed class AliasTable
{
    // Probability and alias side by side: one cache line per draw matters for tables of a million users.
    private readonly Entry[] _entries;

    public AliasTable(ReadOnlySpan<double> weights)
    {
        var n = weights.Length;
        if (n == 0)
        {
            throw new ArgumentException("An alias table needs at least one weight.", nameof(weights));
        }

        var total = 0.0;
        foreach (var w in weights)
        {
            total += w;
        }

        _entries = new Entry[n];
        var scaled = new double[n];
        var small = new Stack<int>();
        var large = new Stack<int>();
        for (var i = 0; i < n; i++)
        {
            scaled[i] = weights[i] * n / total;
            (scaled[i] < 1.0 ? small : large).Push(i);
        }

        while (small.Count > 0 && large.Count > 0)
        {
            var s = small.Pop();
            var l = large.Pop();
            _entries[s] = new Entry(scaled[s], l);
            scaled[l] = scaled[l] + scaled[s] - 1.0;
            (scaled[l] < 1.0 ? small : large).Push(l);
        }

        // Whatever is left is 1 up to rounding error.
        foreach (var i in large.Concat(small))
        {
            _entries[i] = new Entry(1.0, i);
        }
    }

    public int Sample(Xoshiro256 rng)
    {
        var i = rng.NextInt(_entries.Length);
        var entry = _entries[i];
        return rng.NextDouble() < entry.Probability ? i : entry.Alias;
    }

    private readonly record struct Entry(double Probability, int Alias);
}
