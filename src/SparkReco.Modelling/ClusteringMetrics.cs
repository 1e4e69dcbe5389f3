namespace SparkReco.Modelling;

/// <summary>Quality of a clustering: silhouette (choosing k without labels) and adjusted Rand index (agreement with known groups).</summary>
public static class ClusteringMetrics
{
    /// <summary>
    /// Adjusted Rand index (Hubert &amp; Arabie) between two labelings of the same items: 1 = identical
    /// partitions (up to renaming), about 0 = chance agreement. Labels are arbitrary values.
    /// </summary>
    public static double AdjustedRandIndex<TA, TB>(IReadOnlyList<TA> a, IReadOnlyList<TB> b)
        where TA : notnull
        where TB : notnull
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count != b.Count) throw new ArgumentException("Both labelings must cover the same items.", nameof(b));
        var n = a.Count;
        if (n < 2) return 1.0;
        var cells = new Dictionary<(TA, TB), long>();
        var rows = new Dictionary<TA, long>();
        var columns = new Dictionary<TB, long>();
        for (var i = 0; i < n; i++)
        {
            cells[(a[i], b[i])] = cells.GetValueOrDefault((a[i], b[i])) + 1;
            rows[a[i]] = rows.GetValueOrDefault(a[i]) + 1;
            columns[b[i]] = columns.GetValueOrDefault(b[i]) + 1;
        }
        static double Pairs(long m) => m * (m - 1) / 2.0;
        var index = cells.Values.Sum(Pairs);
        var sumRows = rows.Values.Sum(Pairs);
        var sumColumns = columns.Values.Sum(Pairs);
        var expected = sumRows * sumColumns / Pairs(n);
        var max = (sumRows + sumColumns) / 2;
        // Both partitions trivial (all singletons or one block each): they agree completely.
        return max - expected == 0 ? 1.0 : (index - expected) / (max - expected);
    }

    /// <summary>Mean silhouette of a clustering under Euclidean distance (O(n²·d); pass a bounded sample). Singleton clusters score 0.</summary>
    public static double MeanSilhouette(IReadOnlyList<float[]> rows, IReadOnlyList<int> labels) => new SilhouetteScorer(rows).Mean(labels);

    internal static double Distance(float[] x, float[] y)
    {
        var sum = 0.0;
        for (var d = 0; d < x.Length; d++)
        {
            var diff = (double)x[d] - y[d];
            sum += diff * diff;
        }
        return Math.Sqrt(sum);
    }
}

/// <summary>
/// Mean silhouettes of several clusterings of the same rows (choosing k scores one per candidate k). The pairwise
/// distances are computed once and shared when they fit in <see cref="MaxCachedPairs"/>; rows are scored in parallel
/// and added in row order, so the result is the same bits as a plain loop, whatever the number of threads.
/// </summary>
public sealed class SilhouetteScorer
{
    /// <summary>Distances kept at most (8 bytes each: 128 MiB, about 5,800 rows); larger samples recompute them per clustering.</summary>
    public const long MaxCachedPairs = 16L << 20;

    private readonly IReadOnlyList<float[]> _rows;
    private readonly double[]? _distances; // strict upper triangle, row by row

    /// <param name="maxCachedPairs">Most distances to keep (tests pass 0 to check the uncached path).</param>
    public SilhouetteScorer(IReadOnlyList<float[]> rows, long maxCachedPairs = MaxCachedPairs)
    {
        ArgumentNullException.ThrowIfNull(rows);
        _rows = rows;
        var n = (long)rows.Count;
        if (n * (n - 1) / 2 > maxCachedPairs) return;
        var distances = new double[n * (n - 1) / 2];
        Parallel.For(0, rows.Count, i =>
        {
            var at = Offset(i);
            for (var j = i + 1; j < rows.Count; j++) distances[at + j - i - 1] = ClusteringMetrics.Distance(rows[i], rows[j]);
        });
        _distances = distances;
    }

    private long Offset(int i) => (long)i * (2L * _rows.Count - i - 1) / 2;

    // Distance(x, y) and Distance(y, x) are the same bits (each difference is negated exactly before it is squared).
    private double Distance(int i, int j) =>
        _distances is null ? ClusteringMetrics.Distance(_rows[i], _rows[j])
        : i < j ? _distances[Offset(i) + j - i - 1]
        : _distances[Offset(j) + i - j - 1];

    /// <summary>Mean silhouette of <paramref name="labels"/> (one per row). Singleton clusters score 0.</summary>
    public double Mean(IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var n = _rows.Count;
        if (labels.Count != n) throw new ArgumentException("One label per row.", nameof(labels));
        if (n == 0) return 0;
        var k = labels.Max() + 1;
        var sizes = new int[k];
        foreach (var l in labels) sizes[l]++;
        var scores = new double[n];
        Parallel.For(0, n, () => new double[k], (i, _, sums) =>
        {
            Array.Clear(sums);
            for (var j = 0; j < n; j++)
                if (j != i) sums[labels[j]] += Distance(i, j);
            var own = labels[i];
            if (sizes[own] <= 1) return sums;
            var a = sums[own] / (sizes[own] - 1);
            var b = double.PositiveInfinity;
            for (var c = 0; c < k; c++)
                if (c != own && sizes[c] > 0) b = Math.Min(b, sums[c] / sizes[c]);
            if (double.IsPositiveInfinity(b)) return sums;
            var denominator = Math.Max(a, b);
            scores[i] = denominator == 0 ? 0 : (b - a) / denominator;
            return sums;
        }, _ => { });
        var total = 0.0;
        foreach (var score in scores) total += score;
        return total / n;
    }
}
