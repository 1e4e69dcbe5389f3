using SparkReco.Core.Stages;
using SparkReco.Modelling;
using static SparkReco.Tests.Recommend.CfHarness;

namespace SparkReco.Tests.Recommend;

/// <summary>
/// EASE against a plain dense reference: the fit (B = I − P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹ by Gauss–Jordan elimination)
/// and the stage's table (the top-K positive weights of the most popular items, the measure's rows for the others).
/// </summary>
public sealed class EaseTests
{
    /// <summary>The inverse of an SPD matrix by Gauss–Jordan elimination without pivoting (SPD needs none), row-major.</summary>
    private static double[,] Inverse(double[,] a)
    {
        var n = a.GetLength(0);
        var m = (double[,])a.Clone();
        var inv = new double[n, n];
        for (var i = 0; i < n; i++) inv[i, i] = 1;
        for (var p = 0; p < n; p++)
        {
            var pivot = m[p, p];
            for (var j = 0; j < n; j++)
            {
                m[p, j] /= pivot;
                inv[p, j] /= pivot;
            }
            for (var r = 0; r < n; r++)
            {
                if (r == p || m[r, p] == 0) continue;
                var f = m[r, p];
                for (var j = 0; j < n; j++)
                {
                    m[r, j] -= f * m[p, j];
                    inv[r, j] -= f * inv[p, j];
                }
            }
        }
        return inv;
    }

    /// <summary>B from the definition: B_ij = −P_ij / P_jj for i ≠ j, 0 on the diagonal.</summary>
    private static double[,] ReferenceB(double[,] gram, double lambda)
    {
        var n = gram.GetLength(0);
        var a = (double[,])gram.Clone();
        for (var i = 0; i < n; i++) a[i, i] += lambda;
        var p = Inverse(a);
        var b = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
                b[i, j] = i == j ? 0 : -p[i, j] / p[j, j];
        return b;
    }

    [Theory]
    [InlineData(1, 8, 0.5)]
    [InlineData(2, 12, 5)]
    [InlineData(3, 20, 50)]
    public void The_fit_equals_the_dense_inverse_reference(int seed, int n, double lambda)
    {
        var random = new Random(seed);
        var x = new int[40, n];
        for (var u = 0; u < 40; u++)
            for (var i = 0; i < n; i++)
                x[u, i] = random.Next(3) == 0 ? 1 : 0;
        var gram = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
                for (var u = 0; u < 40; u++)
                    gram[i, j] += x[u, i] * x[u, j];

        var flat = new double[n * n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
                flat[i * n + j] = gram[i, j];
        EaseModel.Fit(flat, n, lambda, threads: 3);

        var expected = ReferenceB(gram, lambda);
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
                Assert.True(Math.Abs(expected[i, j] - flat[i * n + j]) <= 1e-9, $"B[{i},{j}]: reference {expected[i, j]:R}, fit {flat[i * n + j]:R}");
    }

    [Fact]
    public void A_lambda_that_is_not_positive_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => EaseModel.Fit(new double[4], 2, 0, threads: 1));

    [Theory]
    [InlineData(3, "off")]
    [InlineData(3, "auto")]
    [InlineData(5, "off")]
    [InlineData(8, "auto")]
    public async Task The_stage_keeps_the_top_k_positive_weights_of_the_most_popular_items_and_the_measure_for_the_rest(int seed, string kernels)
    {
        var affinity = CfOracleTests.RandomAffinity(seed);
        var users = affinity.Select(r => r.User).Distinct().Count();
        var settings = CfOracleTests.RandomSettings(seed, "jaccard", users);
        settings["Engine:Kernels"] = kernels;
        settings["Recommend:ItemModel"] = "ease";
        settings["Ease:Lambda"] = "3";
        settings["Ease:MaxItems"] = "4";
        await using var h = await OpenAsync(affinity, settings);
        await h.RunCfAsync();
        var s = h.Settings;

        // The fitted items: most users first, ties by the lower id (ids number items in ordinal id order).
        var fitted = affinity.GroupBy(r => r.Item).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Take(s.Ease.MaxItems).Select(g => g.Key).ToList();
        var baskets = CfReference.Baskets(affinity, s.Similarity.MaxItemsPerUser);
        var n = fitted.Count;
        var gram = new double[n, n];
        foreach (var basket in baskets.Values)
            for (var i = 0; i < n; i++)
                for (var j = 0; j < n; j++)
                    if (basket.Contains(fitted[i]) && basket.Contains(fitted[j])) gram[i, j]++;
        var b = ReferenceB(gram, s.Ease.Lambda);
        var expected = new Dictionary<string, List<Scored>>(StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            var row = Enumerable.Range(0, n).Where(j => b[i, j] > 0).Select(j => new Scored(fitted[i], fitted[j], b[i, j], (long)gram[i, j])).ToList();
            if (row.Count == 0) continue;
            CfReference.SortRanked(row);
            expected[fitted[i]] = row;
        }
        // Every other item keeps its item_similarity rows.
        var similarity = await h.ReadAsync("item_similarity", "item_id, \"rank\"");
        foreach (var group in similarity.Where(r => !fitted.Contains(S(r["item_id"]))).GroupBy(r => S(r["item_id"])))
            expected[group.Key] = group.Select(r => new Scored(group.Key, S(r["similar_item_id"]), D(r["similarity"]), L(r["cooccurrence"]))).ToList();

        var rows = await h.Engine.QueryAsync(
            """
            SELECT i.item_id, s.item_id AS similar_item_id, e.similarity, e.cooccurrence, e."rank"
            FROM cf_item_ease AS e
            JOIN cf_items AS i ON i.item_ix = e.item_ix
            JOIN cf_items AS s ON s.item_ix = e.similar_ix
            ORDER BY i.item_id, e."rank"
            """, CancellationToken.None);
        CfOracleTests.AssertRanked(expected, rows, "item_id", "similar_item_id", "similarity", "cooccurrence", s.Similarity.TopK, strict: false);
        Assert.Equal((long)n, (long)h.Context.Facts["item_ease.items"]);

        // The item-based scores read EASE's table: the reference scores from its rows.
        var weights = rows.Select(r => new Scored(S(r["item_id"]), S(r["similar_item_id"]), D(r["similarity"]))).ToList();
        var recommend = s.Recommend;
        var cut = new CfReference.CandidateCut(recommend.RemoveSeen, recommend.PopularityPenalty, recommend.Candidates(s.Evaluation));
        CfOracleTests.AssertCandidates(CfReference.Cut(CfReference.ItemScores(affinity, weights), affinity, cut), await h.ReadCandidatesAsync("rec_item_scores", "cf_items"), cut.Candidates);
    }

    [Fact]
    public async Task Plan_shows_the_driver_made_weights_by_shape_and_the_scores_read_them()
    {
        await using var h = await OpenAsync([], new Dictionary<string, string?> { ["Recommend:ItemModel"] = "ease" });
        var sql = string.Join("\n", new SparkReco.Jobs.Stages.Recommend.EaseStage().RenderSql(h.Context));
        Assert.Contains("-- register driver-made table cf_ease_weights (item_ix INT, similar_ix INT, similarity DOUBLE, cooccurrence BIGINT, rank BIGINT) as rows", sql, StringComparison.Ordinal);
        Assert.Contains("-- on the driver: EASE on the 2000 most popular items", sql, StringComparison.Ordinal);
        var scores = string.Join("\n", new SparkReco.Jobs.Stages.Recommend.ItemBasedScoresStage().RenderSql(h.Context));
        Assert.Contains("JOIN \"cf_item_ease\" AS s", scores, StringComparison.Ordinal);
        Assert.DoesNotContain("cf_item_similarity", scores, StringComparison.Ordinal);
    }
}
