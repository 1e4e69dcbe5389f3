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
    public static double MeanSilhouette(IReadOnlyList<float[]> rows, IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(labels);
        var n = rows.Count;
        if (n == 0) return 0;
        var k = labels.Max() + 1;
        var sizes = new int[k];
        foreach (var l in labels) sizes[l]++;
        var total = 0.0;
        var sums = new double[k];
        for (var i = 0; i < n; i++)
        {
            Array.Clear(sums);
            for (var j = 0; j < n; j++)
                if (j != i) sums[labels[j]] += Distance(rows[i], rows[j]);
            var own = labels[i];
            if (sizes[own] <= 1) continue;
            var a = sums[own] / (sizes[own] - 1);
            var b = double.PositiveInfinity;
            for (var c = 0; c < k; c++)
                if (c != own && sizes[c] > 0) b = Math.Min(b, sums[c] / sizes[c]);
            if (double.IsPositiveInfinity(b)) continue;
            var denominator = Math.Max(a, b);
            total += denominator == 0 ? 0 : (b - a) / denominator;
        }
        return total / n;
    }

    private static double Distance(float[] x, float[] y)
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
