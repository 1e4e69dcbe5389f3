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
}
