using SparkReco.Modelling;

namespace SparkReco.Tests.Modelling;

public sealed class ClassificationMetricsTests
{
    [Fact]
    public void Lift_by_decile_matches_a_hand_computed_ranking()
    {
        // 20 rows, scores 19 … 0; positives at ranks 0, 1, 2 and 15: overall rate 4/20 = 0.2.
        // Deciles of two rows: 1 → 2/2 (lift 5), 2 → 1/2 (2.5), 8 → 1/2 (2.5), the rest 0.
        var scores = Enumerable.Range(0, 20).Select(i => (double)(19 - i)).ToList();
        var positive = Enumerable.Range(0, 20).Select(i => i is 0 or 1 or 2 or 15).ToList();
        var lift = ClassificationMetrics.LiftByDecile(scores, positive);
        Assert.Equal(Enumerable.Range(1, 10), lift.Select(d => d.Decile));
        Assert.All(lift, d => Assert.Equal(2, d.Rows));
        Assert.Equal([5.0, 2.5, 0, 0, 0, 0, 0, 2.5, 0, 0], lift.Select(d => d.Lift).ToArray());
        Assert.Equal([2, 1, 0, 0, 0, 0, 0, 1, 0, 0], lift.Select(d => d.Positives).ToArray());
    }

    [Fact]
    public void Lift_by_decile_ranks_by_score_not_by_row_order_and_splits_uneven_counts_evenly()
    {
        // 25 rows in shuffled order: the 3 highest scores are the positives, so they fill the top decile (2 or 3 rows).
        var random = new Random(5);
        var order = Enumerable.Range(0, 25).OrderBy(_ => random.Next()).ToList();
        var scores = order.Select(i => (double)i).ToList();
        var positive = order.Select(i => i >= 22).ToList();
        var lift = ClassificationMetrics.LiftByDecile(scores, positive);
        Assert.Equal(25, lift.Sum(d => d.Rows));
        Assert.All(lift, d => Assert.InRange(d.Rows, 2, 3));
        Assert.Equal(lift[0].Rows, lift[0].Positives);
        Assert.Equal(3, lift.Take(2).Sum(d => d.Positives));
        Assert.Equal(1.0 / (3.0 / 25), lift[0].Lift, 12);
    }

    [Fact]
    public void Lift_by_decile_is_about_one_everywhere_for_a_score_unrelated_to_the_outcome()
    {
        var random = new Random(3);
        var scores = Enumerable.Range(0, 20_000).Select(_ => random.NextDouble()).ToList();
        var positive = Enumerable.Range(0, 20_000).Select(_ => random.NextDouble() < 0.3).ToList();
        Assert.All(ClassificationMetrics.LiftByDecile(scores, positive), d => Assert.InRange(d.Lift, 0.9, 1.1));
    }

    [Fact]
    public void Lift_by_decile_is_empty_without_positives_or_ten_rows_and_refuses_mismatched_lengths()
    {
        Assert.Empty(ClassificationMetrics.LiftByDecile(Enumerable.Repeat(0.5, 50).ToList(), Enumerable.Repeat(false, 50).ToList()));
        Assert.Empty(ClassificationMetrics.LiftByDecile(Enumerable.Repeat(0.5, 9).ToList(), Enumerable.Repeat(true, 9).ToList()));
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.LiftByDecile([0.1, 0.2], [true]));
    }
}
