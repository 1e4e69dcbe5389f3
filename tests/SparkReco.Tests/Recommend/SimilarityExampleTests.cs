using SparkReco.Core.Errors;
using static SparkReco.Tests.Recommend.CfHarness;

namespace SparkReco.Tests.Recommend;

/// <summary>Hand-computed examples of the measures, the per-user cap and the deterministic tie-breaks; settings validation.</summary>
public sealed class SimilarityExampleTests
{
    private static List<AffinityRow> Baskets(params (string User, string[] Items)[] baskets) =>
        baskets.SelectMany(b => b.Items.Select(i => new AffinityRow(b.User, i, 1, AsOf))).ToList();

    /// <summary>The similarities by the stage SQL; the kernel must give exactly the same.</summary>
    /// <param name="shrinkage">Similarity:Shrinkage; 0 (the raw measure) for the hand-computed tables.</param>
    private static async Task<Dictionary<string, double>> SimilarityAsync(List<AffinityRow> rows, string measure, string shrinkage = "0")
    {
        var results = new List<Dictionary<string, double>>();
        foreach (var kernels in new[] { "off", "auto" })
        {
            await using var h = await OpenAsync(rows, new Dictionary<string, string?>
            {
                ["Similarity:Measure"] = measure,
                ["Similarity:MinSupport"] = "1",
                ["Similarity:Shrinkage"] = shrinkage,
                ["Engine:Kernels"] = kernels,
            });
            await h.RunAsync(CfStages().Take(4));
            results.Add((await h.ReadAsync("item_similarity", "item_id, \"rank\""))
                .ToDictionary(r => $"{S(r["item_id"])}->{S(r["similar_item_id"])}", r => D(r["similarity"])));
        }
        Assert.Equal(results[0], results[1]);
        return results[0];
    }

    // Table 1: six users; A and B are bought together more often than chance.
    //   u1 {A, B}, u2 {A, B}, u3 {A}, u4 {B}, u5 {C}, u6 {C}
    //   c = 2, n_A = 3, n_B = 3, N = 6  →  k11 = 2, k12 = 1, k21 = 1, k22 = 2; rows 3, 3; columns 3, 3.
    //   LLR = 2·(Σ k ln k − Σ row ln row − Σ col ln col + N ln N)
    //       = 2·(2 ln 2 + 0 + 0 + 2 ln 2 − 2·3 ln 3 − 2·3 ln 3 + 6 ln 6)
    //       = 2·(4 ln 2 − 12 ln 3 + 6 ln 2 + 6 ln 3) = 20 ln 2 − 12 ln 3 = 13.8629436 − 13.1833475 = 0.6795961
    //   lift = c·N / (n_A·n_B) = 2·6 / 9 = 4/3;  jaccard = 2 / (3 + 3 − 2) = 1/2;  cosine = 2 / √9 = 2/3;  inclusion = 2 / min(3, 3) = 2/3.
    private static List<AffinityRow> Table1() => Baskets(
        ("u1", ["A", "B"]), ("u2", ["A", "B"]), ("u3", ["A"]), ("u4", ["B"]), ("u5", ["C"]), ("u6", ["C"]));

    // Table 2: ten users; X and Y co-occur exactly as often as independence predicts.
    //   u1, u2 {X, Y}; u3, u4 {X}; u5, u6, u7 {Y}; u8, u9, u10 {Z}
    //   c = 2, n_X = 4, n_Y = 5, N = 10  →  k11 = 2, k12 = 2, k21 = 3, k22 = 3; expected k11 = 4·5/10 = 2 = observed.
    //   lift = 2·10 / (4·5) = 1;  LLR = 2·(2 ln 2 + 2 ln 2 + 3 ln 3 + 3 ln 3 − 4 ln 4 − 6 ln 6 − 5 ln 5 − 5 ln 5 + 10 ln 10) = 0
    //   (4 ln 2 + 6 ln 3 − 8 ln 2 − 6 ln 2 − 6 ln 3 − 10 ln 5 + 10 ln 2 + 10 ln 5 = 0).
    private static List<AffinityRow> Table2() => Baskets(
        ("u1", ["X", "Y"]), ("u2", ["X", "Y"]), ("u3", ["X"]), ("u4", ["X"]), ("u5", ["Y"]), ("u6", ["Y"]), ("u7", ["Y"]),
        ("u8", ["Z"]), ("u9", ["Z"]), ("u10", ["Z"]));

    [Fact]
    public async Task Llr_matches_the_hand_computed_tables()
    {
        var table1 = await SimilarityAsync(Table1(), "llr");
        Assert.Equal(20 * Math.Log(2) - 12 * Math.Log(3), table1["A->B"], 12);
        Assert.Equal(0.6795961, table1["B->A"], 6);
        Assert.Equal(2, table1.Count);
        var table2 = await SimilarityAsync(Table2(), "llr");
        Assert.Equal(0, table2["X->Y"], 12);
        Assert.True(table2["X->Y"] >= 0);
    }

    [Fact]
    public async Task Lift_and_the_other_measures_match_the_hand_computed_tables()
    {
        Assert.Equal(4.0 / 3, (await SimilarityAsync(Table1(), "lift"))["A->B"], 12);
        Assert.Equal(1.0, (await SimilarityAsync(Table2(), "lift"))["Y->X"], 12);
        Assert.Equal(0.5, (await SimilarityAsync(Table1(), "jaccard"))["A->B"], 12);
        Assert.Equal(2.0 / 3, (await SimilarityAsync(Table1(), "cosine"))["A->B"], 12);
        Assert.Equal(2.0 / 3, (await SimilarityAsync(Table1(), "inclusion"))["A->B"], 12);
        Assert.Equal(2.0 / 4, (await SimilarityAsync(Table2(), "inclusion"))["Y->X"], 12); // c / min(4, 5)
        Assert.Equal(2.0, (await SimilarityAsync(Table1(), "cooccurrence"))["B->A"], 12);
    }

    [Fact]
    public async Task Shrinkage_multiplies_lift_and_inclusion_by_the_support_factor_and_leaves_the_others_alone()
    {
        // Table 1 with λ = 2: c / (c + λ) = 2 / 4.
        Assert.Equal(4.0 / 3 * 0.5, (await SimilarityAsync(Table1(), "lift", "2"))["A->B"], 12);
        Assert.Equal(2.0 / 3 * 0.5, (await SimilarityAsync(Table1(), "inclusion", "2"))["A->B"], 12);
        Assert.Equal(0.5, (await SimilarityAsync(Table1(), "jaccard", "2"))["A->B"], 12);
        Assert.Equal(2.0 / 3, (await SimilarityAsync(Table1(), "cosine", "2"))["A->B"], 12);
    }

    [Fact]
    public async Task With_shrinkage_a_well_supported_pair_ranks_above_a_pair_of_rare_items()
    {
        // A and B: 10 users each, 8 share both. R: 2 users, both also have A.
        // inclusion(A→R) = 2 / min(10, 2) = 1 beats inclusion(A→B) = 8 / 10; with λ = 10: 1·2/12 = 0.167 < 0.8·8/18 = 0.356.
        var baskets = Enumerable.Range(0, 8).Select(u => ($"s{u}", new[] { "A", "B" }))
            .Concat([("a1", ["A", "R"]), ("a2", ["A", "R"]), ("b1", ["B"]), ("b2", ["B"])]).ToArray();
        var raw = await SimilarityAsync(Baskets(baskets), "inclusion");
        Assert.True(raw["A->R"] > raw["A->B"]);
        var shrunk = await SimilarityAsync(Baskets(baskets), "inclusion", "10");
        Assert.Equal(0.8 * 8 / 18, shrunk["A->B"], 12);
        Assert.Equal(2.0 / 12, shrunk["A->R"], 12);
    }

    [Theory]
    [InlineData("off")]
    [InlineData("auto")]
    public async Task Ties_are_broken_by_the_lower_id_and_the_cap_keeps_the_most_recent_then_strongest_items(string kernels)
    {
        // A co-occurs once with each of B, C, D: equal similarity, so top-2 for A is B then C.
        // The power user p has five items at the same time with affinities 1, 2, 2, 1, 3: a cap of 3 keeps E (3), then B and C (2, lower id first).
        var rows = Baskets(("u1", ["A", "D"]), ("u2", ["A", "C"]), ("u3", ["A", "B"]));
        rows.AddRange([
            new AffinityRow("p", "A", 1, AsOf.AddDays(-1)), new AffinityRow("p", "B", 2, AsOf.AddDays(-1)), new AffinityRow("p", "C", 2, AsOf.AddDays(-1)),
            new AffinityRow("p", "D", 1, AsOf.AddDays(-1)), new AffinityRow("p", "E", 3, AsOf.AddDays(-1)),
        ]);
        await using var h = await OpenAsync(rows, new Dictionary<string, string?>
        {
            ["Similarity:Measure"] = "cooccurrence",
            ["Similarity:MinSupport"] = "1",
            ["Similarity:TopK"] = "2",
            ["Similarity:MaxItemsPerUser"] = "3",
            ["Engine:Kernels"] = kernels,
        });
        await h.RunAsync(CfStages().Take(4));
        if (kernels == "off")
        {
            // The SQL path's helper table; the kernel keeps its baskets in memory (the pair count below checks them).
            var basket = (await h.Engine.QueryAsync(
                "SELECT i.item_id FROM cf_item_baskets AS b JOIN cf_users AS u ON u.user_ix = b.user_ix JOIN cf_items AS i ON i.item_ix = b.item_ix WHERE u.user_id = 'p' ORDER BY i.item_id",
                CancellationToken.None)).Select(r => S(r["item_id"]));
            Assert.Equal(["B", "C", "E"], basket);
        }
        var forA = (await h.ReadAsync("item_similarity", "item_id, \"rank\"")).Where(r => S(r["item_id"]) == "A").Select(r => S(r["similar_item_id"]));
        Assert.Equal(["B", "C"], forA);
        Assert.Equal(3L + 3L, (long)h.Context.Facts["item_similarity.pairs"]); // three pairs of two + p's 3·2/2
        Assert.Equal(1L, (long)h.Context.Facts["item_similarity.capped_users"]);
    }

    [Theory]
    [InlineData("Similarity:Measure", "pearson", "expected one of cooccurrence, jaccard, lift, cosine, llr, inclusion")]
    [InlineData("Similarity:MaxItemsPerUser", "1", "Similarity:MaxItemsPerUser")]
    [InlineData("Similarity:TopK", "0", "Similarity:TopK")]
    [InlineData("Neighbors:MinOverlap", "-1", "Neighbors:MinOverlap")]
    [InlineData("Similarity:Shrinkage", "-1", "Similarity:Shrinkage")]
    [InlineData("Recommend:TopN", "abc", "a whole number between 1 and 1000")]
    [InlineData("Recommend:ItemWeight", "-0.5", "Recommend:ItemWeight")]
    [InlineData("Recommend:PopularityPenalty", "9", "a number between 0 and 4")]
    [InlineData("Evaluation:Mode", "holdout", "expected one of none, temporal, random, files")]
    [InlineData("Evaluation:Mode", "files", "'Evaluation:TestEvents' is empty")]
    [InlineData("Evaluation:TestEvents", "test.parquet", "only used when 'Evaluation:Mode' is 'files'")]
    [InlineData("Similarity:Measur", "llr", "did you mean 'Similarity:Measure'")]
    public void Bad_settings_are_reported_with_what_is_allowed(string key, string value, string message)
    {
        var e = Assert.Throws<ConfigurationException>(() => ReadSettings(new Dictionary<string, string?> { [key] = value }));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
