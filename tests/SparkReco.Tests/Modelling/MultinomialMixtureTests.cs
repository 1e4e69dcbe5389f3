using SparkReco.Modelling;

namespace SparkReco.Tests.Modelling;

public sealed class MultinomialMixtureTests
{
    /// <summary>Rows drawn from a known mixture: group g puts <c>ownShare</c> (80%) of its mass on columns 2g and 2g+1 of a 6-column block, then a 2-column block the groups share.</summary>
    private static (List<double[]> Rows, List<int> Groups) Planted(int perGroup, int seed, double ownShare = 0.8)
    {
        var random = new Random(seed);
        List<double[]> rows = [];
        List<int> groups = [];
        for (var g = 0; g < 3; g++)
        {
            for (var u = 0; u < perGroup; u++)
            {
                var row = new double[8];
                var events = 3 + random.Next(40);
                for (var e = 0; e < events; e++)
                {
                    row[random.NextDouble() < ownShare ? 2 * g + random.Next(2) : random.Next(6)]++;
                    row[6 + (random.NextDouble() < 0.7 ? 0 : 1)]++;
                }
                rows.Add(row);
                groups.Add(g);
            }
        }
        return (rows, groups);
    }

    [Fact]
    public void Recovers_planted_groups_and_the_bic_prefers_their_number()
    {
        var (rows, groups) = Planted(150, seed: 3);
        var fits = MultinomialMixture.FitBestForEach(rows, [6, 2], [2, 3, 4, 5], seed: 1, maxIterations: 500, restarts: 3);
        var bics = fits.Select(f => f.Bic(rows.Count)).ToList();
        Assert.Equal(3, fits[bics.IndexOf(bics.Min())].K);
        Assert.True(ClusteringMetrics.AdjustedRandIndex(groups, fits[1].Predict(rows)) > 0.95);
        // Each block of θ is a distribution.
        foreach (var theta in fits[1].LogTheta)
        {
            Assert.Equal(1.0, theta.Take(6).Sum(Math.Exp), 9);
            Assert.Equal(1.0, theta.Skip(6).Sum(Math.Exp), 9);
        }
        Assert.Equal(1.0, fits[1].LogPrior.Sum(Math.Exp), 9);
        Assert.Equal(3 - 1 + 3 * (5 + 1), fits[1].Parameters);
    }

    [Fact]
    public void Scores_are_log_prior_plus_counts_times_log_theta_and_predict_takes_their_argmax()
    {
        var (rows, _) = Planted(40, seed: 5);
        var model = MultinomialMixture.FitBestForEach(rows, [6, 2], [3], seed: 2, maxIterations: 200, restarts: 2)[0];
        var labels = model.Predict(rows);
        for (var i = 0; i < rows.Count; i++)
        {
            var scores = model.Scores(rows[i]);
            for (var k = 0; k < model.K; k++)
                Assert.Equal(model.LogPrior[k] + rows[i].Select((x, d) => x * model.LogTheta[k][d]).Sum(), scores[k], 9);
            Assert.Equal(Array.IndexOf(scores, scores.Max()), labels[i]);
        }
    }

    [Fact]
    public void Fits_are_identical_whatever_the_thread_count()
    {
        var (rows, _) = Planted(60, seed: 9);
        var one = MultinomialMixture.FitBestForEach(rows, [6, 2], [2, 3, 4], seed: 4, maxIterations: 300, restarts: 3, threads: 1);
        var two = MultinomialMixture.FitBestForEach(rows, [6, 2], [2, 3, 4], seed: 4, maxIterations: 300, restarts: 3, threads: 2);
        for (var i = 0; i < one.Length; i++)
        {
            Assert.Equal(one[i].LogLikelihood, two[i].LogLikelihood);
            Assert.Equal(one[i].LogPrior, two[i].LogPrior);
            for (var k = 0; k < one[i].K; k++) Assert.Equal(one[i].LogTheta[k], two[i].LogTheta[k]);
        }
    }

    [Fact]
    public void A_clearly_separate_group_is_certain_and_blurred_rows_add_entropy()
    {
        var (clear, _) = Planted(50, seed: 1);
        var (blurred, _) = Planted(50, seed: 1, ownShare: 0.3);
        var sharp = MultinomialMixture.FitBestForEach(clear, [6, 2], [3], seed: 0, maxIterations: 300, restarts: 3)[0];
        var vague = MultinomialMixture.FitBestForEach(blurred, [6, 2], [3], seed: 0, maxIterations: 300, restarts: 3)[0];
        Assert.All(sharp.Confidence, c => Assert.InRange(c, 0.9, 1.0));
        Assert.True(vague.Confidence.Min() < sharp.Confidence.Min(), $"confidence {vague.Confidence.Min():F3} blurred vs {sharp.Confidence.Min():F3} clear");
        Assert.True(vague.Entropy > 2 * sharp.Entropy, $"entropy {vague.Entropy:F1} blurred vs {sharp.Entropy:F1} clear");
        // ICL charges BIC for that uncertainty: the blurred fit pays more on top of its BIC.
        Assert.Equal(sharp.Bic(clear.Count) + 2 * sharp.Entropy, sharp.Icl(clear.Count), 6);
        Assert.True(vague.Icl(blurred.Count) - vague.Bic(blurred.Count) > sharp.Icl(clear.Count) - sharp.Bic(clear.Count));
    }

    [Fact]
    public void Rows_that_do_not_match_the_blocks_are_refused()
    {
        Assert.Throws<ArgumentException>(() => MultinomialMixture.FitBestForEach([new double[3]], [2, 2], [2], 0, 10, 1));
        Assert.Throws<ArgumentException>(() => MultinomialMixture.FitBestForEach([new[] { 1.0, -1.0 }], [2], [2], 0, 10, 1));
        Assert.Throws<ArgumentException>(() => MultinomialMixture.FitBestForEach([new[] { 1.0 }], [0, 1], [2], 0, 10, 1));
    }
}
