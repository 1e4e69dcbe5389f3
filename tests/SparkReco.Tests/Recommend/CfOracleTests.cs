using System.Globalization;
using static SparkReco.Tests.Recommend.CfHarness;

namespace SparkReco.Tests.Recommend;

/// <summary>
/// Oracle tests: on small random inputs (ties in affinity and time, caps and cut-offs active), every CF stage's
/// SQL gives the same rows as the plain C# reference (scores within 1e-9; only near-equal scores may swap places).
/// </summary>
public sealed class CfOracleTests
{
    public static TheoryData<int, string> SeedsAndMeasures()
    {
        var data = new TheoryData<int, string>();
        var measures = new[] { "cooccurrence", "jaccard", "lift", "cosine", "llr", "inclusion", "rp3beta" };
        for (var seed = 1; seed <= 24; seed++) data.Add(seed, measures[seed % measures.Length]);
        return data;
    }

    /// <summary>Random affinity with many ties: few affinity values, few distinct times, one power user, some zero affinity.</summary>
    public static List<AffinityRow> RandomAffinity(int seed)
    {
        var random = new Random(seed);
        var users = random.Next(6, 22);
        var items = random.Next(5, 18);
        double[] values = [0.5, 1, 1, 2, 3.25];
        var rows = new List<AffinityRow>();
        for (var u = 0; u < users; u++)
        {
            var count = u == 0 ? items : random.Next(1, Math.Min(items, 8) + 1);
            foreach (var i in Enumerable.Range(0, items).OrderBy(_ => random.Next()).Take(count))
            {
                var affinity = random.Next(25) == 0 ? 0.0 : random.Next(4) == 0 ? Math.Round(random.NextDouble() * 4, 3) : values[random.Next(values.Length)];
                var time = AsOf.AddDays(-random.Next(0, 4));
                // Ids without padding, so ordinal order ("i10" < "i2") is exercised.
                rows.Add(new AffinityRow("u" + u.ToString(CultureInfo.InvariantCulture), "i" + i.ToString(CultureInfo.InvariantCulture), affinity, time));
            }
        }
        return rows;
    }

    public static Dictionary<string, string?> RandomSettings(int seed, string measure, int users)
    {
        var random = new Random(seed * 7919);
        return new Dictionary<string, string?>
        {
            ["Similarity:Measure"] = measure,
            ["Similarity:MaxItemsPerUser"] = random.Next(3, 7).ToString(CultureInfo.InvariantCulture),
            ["Similarity:MinSupport"] = random.Next(1, 3).ToString(CultureInfo.InvariantCulture),
            ["Similarity:TopK"] = random.Next(2, 6).ToString(CultureInfo.InvariantCulture),
            ["Neighbors:MaxUsersPerItem"] = Math.Max(2, users / 2).ToString(CultureInfo.InvariantCulture),
            ["Neighbors:MinOverlap"] = random.Next(1, 3).ToString(CultureInfo.InvariantCulture),
            ["Neighbors:TopK"] = random.Next(2, 5).ToString(CultureInfo.InvariantCulture),
            ["Recommend:TopN"] = random.Next(3, 8).ToString(CultureInfo.InvariantCulture),
            ["Recommend:ItemWeight"] = (random.Next(0, 4) * 0.5).ToString(CultureInfo.InvariantCulture),
            ["Recommend:UserWeight"] = (random.Next(1, 4) * 0.5).ToString(CultureInfo.InvariantCulture),
            ["Recommend:RemoveSeen"] = random.Next(4) == 0 ? "false" : "true",
            ["Recommend:PopularityPenalty"] = random.Next(3) == 0 ? "0.5" : "0",
            ["Recommend:Backfill"] = random.Next(4) == 0 ? "false" : "true",
            ["Recommend:CandidatesPerSource"] = random.Next(2, 7).ToString(CultureInfo.InvariantCulture),
            ["Neighbors:MaxItemsPerNeighbor"] = random.Next(0, 4).ToString(CultureInfo.InvariantCulture),
            ["Neighbors:WeightExponent"] = new[] { "1", "2", "2.5" }[random.Next(3)],
            ["Neighbors:PopularityPenalty"] = random.Next(3) == 0 ? "0.25" : "0",
            ["Similarity:Rp3Alpha"] = random.Next(2) == 0 ? "1" : "0.5",
            ["Similarity:Rp3Beta"] = random.Next(2) == 0 ? "0.5" : "0",
            ["Similarity:Shrinkage"] = new[] { "0", "1", "20" }[random.Next(3)],
            // Every test of the SQL definition runs it as SQL; KernelEquivalenceTests compare the kernels with it.
            ["Engine:Kernels"] = "off",
        };
    }

    [Theory]
    [MemberData(nameof(SeedsAndMeasures))]
    public async Task Every_cf_stage_matches_the_reference_on_random_input(int seed, string measure)
    {
        var affinity = RandomAffinity(seed);
        var users = affinity.Select(r => r.User).Distinct().Count();
        await using var h = await OpenAsync(affinity, RandomSettings(seed, measure, users));
        await h.RunCfAsync();
        var s = h.Settings;

        // item_similarity
        var expectedSimilarity = CfReference.ItemSimilarity(affinity, measure, s.Similarity.MaxItemsPerUser, s.Similarity.MinSupport, s.Similarity.Rp3Alpha, s.Similarity.Rp3Beta, s.Similarity.Shrinkage);
        var similarity = await h.ReadAsync("item_similarity", "item_id, \"rank\"");
        AssertRanked(expectedSimilarity, similarity, "item_id", "similar_item_id", "similarity", "cooccurrence", s.Similarity.TopK, strict: measure == "cooccurrence");
        Assert.Equal(CfReference.PairsGenerated(affinity, s.Similarity.MaxItemsPerUser), (long)h.Context.Facts["item_similarity.pairs"]);

        // user_neighbors
        var expectedNeighbors = CfReference.Neighbors(affinity, s.Neighbors.MaxUsersPerItem, s.Neighbors.MinOverlap);
        var neighbors = await h.ReadAsync("user_neighbors", "user_id, \"rank\"");
        AssertRanked(expectedNeighbors, neighbors, "user_id", "neighbor_id", "similarity", "overlap", s.Neighbors.TopK, strict: false);
        var skipped = affinity.Where(r => r.Affinity > 0).GroupBy(r => r.Item).Count(g => g.Count() > s.Neighbors.MaxUsersPerItem);
        Assert.Equal((long)skipped, (long)h.Context.Facts["user_neighbors.skipped_items"]);

        // Both recommenders, on the SQL's own similarity and neighbour tables (each stage is checked on its input).
        var simRows = similarity.Select(r => new Scored(S(r["item_id"]), S(r["similar_item_id"]), D(r["similarity"]))).ToList();
        var neighborRows = neighbors.Select(r => new Scored(S(r["user_id"]), S(r["neighbor_id"]), D(r["similarity"]))).ToList();
        var r = s.Recommend;
        var cut = new CfReference.CandidateCut(r.RemoveSeen, r.PopularityPenalty, r.Candidates(s.Evaluation));
        var itemScores = await h.ReadCandidatesAsync("rec_item_scores", "cf_items");
        AssertCandidates(CfReference.Cut(CfReference.ItemScores(affinity, simRows), affinity, cut), itemScores, cut.Candidates);
        var userScores = await h.ReadCandidatesAsync("rec_user_scores", "cf_users");
        var userCut = cut with { Beta = r.PopularityPenalty + s.Neighbors.PopularityPenalty };
        AssertCandidates(CfReference.Cut(CfReference.UserScores(affinity, neighborRows, s.Neighbors.MaxItemsPerNeighbor, s.Neighbors.WeightExponent), affinity, userCut), userScores, cut.Candidates);

        // recommendations: blend of the cut candidates (seen items and the penalty are already applied), back-fill.
        var expected = RecommendReference.Recommend(affinity, Candidates(itemScores), Candidates(userScores),
            r.ItemWeight, r.UserWeight, r.TopN, r.RemoveSeen, r.Backfill, beta: 0);
        var actual = await h.ReadAsync("recommendations", "user_id, \"rank\"");
        AssertRecommendations(expected, actual);
    }

    public static List<RecommendReference.Candidate> Candidates(IEnumerable<IReadOnlyDictionary<string, object?>> rows) =>
        rows.Select(r => new RecommendReference.Candidate(S(r["user_id"]), S(r["item_id"]), D(r["score"]), S(r["reason_id"]))).ToList();

    public static bool Close(double expected, double actual) => Math.Abs(expected - actual) <= 1e-9 * Math.Max(1, Math.Abs(expected));

    /// <summary>
    /// Same lists: at every rank the score matches the reference's score at that rank, every returned id is a
    /// reference candidate with that score and count, no id twice. With <paramref name="strict"/>, ids match rank by
    /// rank (exact scores: ties must be broken by the lower id); otherwise only near-equal scores may swap.
    /// </summary>
    internal static void AssertRanked(Dictionary<string, List<Scored>> expected, IEnumerable<IReadOnlyDictionary<string, object?>> rows,
        string keyColumn, string idColumn, string scoreColumn, string countColumn, int k, bool strict)
    {
        var actual = rows.GroupBy(r => S(r[keyColumn])).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, full) in expected)
        {
            var list = actual[key];
            var byId = full.ToDictionary(x => x.Id, StringComparer.Ordinal);
            Assert.Equal(Math.Min(k, full.Count), list.Count);
            Assert.Equal(list.Count, list.Select(x => S(x[idColumn])).Distinct().Count());
            for (var p = 0; p < list.Count; p++)
            {
                var row = list[p];
                var id = S(row[idColumn]);
                Assert.Equal(p + 1, L(row["rank"]));
                Assert.True(Close(full[p].Score, D(row[scoreColumn])), $"{key} rank {p + 1}: expected score {full[p].Score:R}, got {D(row[scoreColumn]):R} ({id})");
                Assert.True(byId.ContainsKey(id), $"{key} rank {p + 1}: {id} is not a reference candidate");
                Assert.True(Close(byId[id].Score, D(row[scoreColumn])), $"{key}/{id}: expected {byId[id].Score:R}, got {D(row[scoreColumn]):R}");
                Assert.Equal(byId[id].Count, L(row[countColumn]));
                if (strict) Assert.Equal(full[p].Id, id);
            }
        }
    }

    /// <summary>
    /// Each user's cut candidates: as many as the reference keeps, ranked 1.., the score at each rank equal to the
    /// reference's at that rank, each item a reference candidate with that score and a reason among the largest terms.
    /// </summary>
    internal static void AssertCandidates(Dictionary<string, List<CfReference.Candidate>> expected, IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, int n)
    {
        var actual = rows.GroupBy(r => S(r["user_id"])).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (user, full) in expected)
        {
            var list = actual[user];
            var byItem = full.ToDictionary(x => x.Item, StringComparer.Ordinal);
            Assert.Equal(Math.Min(n, full.Count), list.Count);
            for (var p = 0; p < list.Count; p++)
            {
                var row = list[p];
                var item = S(row["item_id"]);
                Assert.Equal(p + 1, L(row["rank"]));
                Assert.True(Close(full[p].Score, D(row["score"])), $"{user} rank {p + 1}: expected {full[p].Score:R}, got {D(row["score"]):R} ({item})");
                Assert.True(byItem.TryGetValue(item, out var e), $"{user} rank {p + 1}: {item} is not a reference candidate");
                Assert.True(Close(e.Score, D(row["score"])), $"{user}/{item}: expected {e.Score:R}, got {D(row["score"]):R}");
                Assert.Contains(S(row["reason_id"]), e.Reasons);
            }
        }
    }

    internal static void AssertRecommendations(Dictionary<string, List<(string Item, double Score, string Source, string? ReasonId)>> expected,
        IReadOnlyList<IReadOnlyDictionary<string, object?>> rows)
    {
        var actual = rows.GroupBy(r => S(r["user_id"])).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (user, list) in expected)
        {
            var got = actual[user];
            Assert.Equal(list.Count, got.Count);
            var byItem = list.ToDictionary(x => x.Item, StringComparer.Ordinal);
            for (var p = 0; p < list.Count; p++)
            {
                var row = got[p];
                var item = S(row["item_id"]);
                Assert.Equal(p + 1, L(row["rank"]));
                Assert.True(Close(list[p].Score, D(row["score"])), $"{user} rank {p + 1}: expected {list[p].Score:R} ({list[p].Item}), got {D(row["score"]):R} ({item})");
                Assert.True(byItem.ContainsKey(item), $"{user} rank {p + 1}: {item} not expected");
                var e = byItem[item];
                Assert.Equal(e.Source, S(row["source"]));
                if (e.Source == "popular")
                {
                    Assert.Equal("popular", S(row["reason"]));
                }
                else
                {
                    var reason = e.ReasonId ?? "";
                    var kind = reason[..reason.IndexOf(':', StringComparison.Ordinal)];
                    Assert.Equal(reason, kind + ":" + S(row[kind == "item" ? "reason_item_id" : "reason_user_id"]));
                    Assert.Null(row[kind == "item" ? "reason_user_id" : "reason_item_id"]);
                    Assert.StartsWith(kind == "item" ? "similar to item " : "liked by similar user ", S(row["reason"]), StringComparison.Ordinal);
                }
            }
        }
    }
}
