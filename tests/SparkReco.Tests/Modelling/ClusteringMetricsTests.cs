using SparkReco.Modelling;

namespace SparkReco.Tests.Modelling;

public sealed class ClusteringMetricsTests
{
    [Fact]
    public void Adjusted_rand_index_is_one_for_the_same_partition_under_other_names()
    {
        Assert.Equal(1.0, ClusteringMetrics.AdjustedRandIndex(new[] { 0, 0, 1, 1, 2, 2 }, new[] { "b", "b", "c", "c", "a", "a" }), 12);
    }

    [Fact]
    public void Adjusted_rand_index_matches_a_hand_computed_contingency_table()
    {
        // Contingency [[2,1],[0,2]]: index = 1 + 1 = 2; rows C(3,2)+C(2,2) = 4; columns C(2,2)+C(3,2) = 4;
        // expected = 4·4/C(5,2) = 1.6; max = 4; ARI = (2 − 1.6)/(4 − 1.6) = 1/6.
        Assert.Equal(1.0 / 6, ClusteringMetrics.AdjustedRandIndex(new[] { 0, 0, 0, 1, 1 }, new[] { 0, 0, 1, 1, 1 }), 12);
    }

    [Fact]
    public void Adjusted_rand_index_is_near_zero_for_unrelated_labelings()
    {
        var random = new Random(1);
        var a = Enumerable.Range(0, 4000).Select(_ => random.Next(4)).ToArray();
        var b = Enumerable.Range(0, 4000).Select(_ => random.Next(4)).ToArray();
        Assert.InRange(ClusteringMetrics.AdjustedRandIndex(a, b), -0.02, 0.02);
    }

    [Fact]
    public void Silhouette_is_high_for_well_separated_clusters_and_lower_for_a_bad_split()
    {
        float[][] rows = [[0, 0], [0, 1], [1, 0], [10, 10], [10, 11], [11, 10]];
        var good = ClusteringMetrics.MeanSilhouette(rows, [0, 0, 0, 1, 1, 1]);
        var bad = ClusteringMetrics.MeanSilhouette(rows, [0, 1, 0, 1, 0, 1]);
        Assert.True(good > 0.85, $"good {good}");
        Assert.True(bad < 0, $"bad {bad}");
    }

    [Fact]
    public void Shared_distances_give_the_plain_silhouette_bit_for_bit_for_every_labeling()
    {
        var random = new Random(7);
        var rows = Enumerable.Range(0, 300).Select(_ => Enumerable.Range(0, 5).Select(_ => (float)random.NextDouble()).ToArray()).ToList();
        var cached = new SilhouetteScorer(rows);
        var uncached = new SilhouetteScorer(rows, maxCachedPairs: 0);
        foreach (var k in new[] { 2, 3, 7 })
        {
            var labels = Enumerable.Range(0, rows.Count).Select(_ => random.Next(k)).ToArray();
            labels[0] = k - 1; // every label up to k - 1 is used at least once
            var expected = PlainSilhouette(rows, labels);
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(cached.Mean(labels)));
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(uncached.Mean(labels)));
        }
    }

    /// <summary>The textbook loop, row by row in order: a(i) = mean distance to its own cluster, b(i) = the nearest other cluster's mean.</summary>
    private static double PlainSilhouette(List<float[]> rows, int[] labels)
    {
        var k = labels.Max() + 1;
        var sizes = new int[k];
        foreach (var l in labels) sizes[l]++;
        var total = 0.0;
        for (var i = 0; i < rows.Count; i++)
        {
            var sums = new double[k];
            for (var j = 0; j < rows.Count; j++)
            {
                if (j == i) continue;
                var squares = 0.0;
                for (var d = 0; d < rows[i].Length; d++)
                {
                    var diff = (double)rows[i][d] - rows[j][d];
                    squares += diff * diff;
                }
                sums[labels[j]] += Math.Sqrt(squares);
            }
            var own = labels[i];
            if (sizes[own] <= 1) continue;
            var a = sums[own] / (sizes[own] - 1);
            var b = Enumerable.Range(0, k).Where(c => c != own && sizes[c] > 0).Select(c => sums[c] / sizes[c]).DefaultIfEmpty(double.PositiveInfinity).Min();
            if (double.IsPositiveInfinity(b)) continue;
            total += Math.Max(a, b) == 0 ? 0 : (b - a) / Math.Max(a, b);
        }
        return total / rows.Count;
    }
}
