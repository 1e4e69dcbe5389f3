using System.Globalization;
using SparkReco.Core.Stages;
using SparkReco.Jobs.Evaluation;
using SparkReco.Jobs.Stages;
using static SparkReco.Tests.Recommend.CfHarness;

namespace SparkReco.Tests.Recommend;

/// <summary>
/// The evaluation's SQL metrics equal a C# computation from the definitions, the hold-out is built from the split
/// alone, and the test period cannot change anything the train model learned.
/// </summary>
public sealed class EvaluationTests
{
    public sealed record Event(string User, string Item, string Type, DateTime Time);

    private static readonly string[] Types = ["view", "like", "share"];

    /// <summary>Random events over 30 days before as_of; a few users and items only appear in the last week.</summary>
    public static List<Event> RandomEvents(int seed, int count = 400)
    {
        var random = new Random(seed);
        var events = new List<Event>();
        for (var e = 0; e < count; e++)
        {
            var user = random.Next(0, 30);
            // Items cluster by user group, so CF has something to find.
            var item = (user % 3) * 6 + random.Next(0, 9);
            events.Add(new Event("u" + user.ToString(CultureInfo.InvariantCulture), "i" + item.ToString(CultureInfo.InvariantCulture),
                Types[random.Next(Types.Length)], AsOf.AddHours(-random.Next(0, 30 * 24))));
        }
        return events;
    }

    internal static async Task CreateCleanEventsAsync(CfHarness h, IReadOnlyList<Event> events)
    {
        var d = h.Engine.Dialect;
        await h.Engine.CreateTableAsync("clean_events",
            "SELECT user_id, item_id, event_type, event_time, CAST(1 AS DOUBLE) AS weight FROM (VALUES\n" +
            string.Join(",\n", events.Select(e => $"({d.Literal(e.User)}, {d.Literal(e.Item)}, {d.Literal(e.Type)}, {d.Timestamp(e.Time)})")) +
            ") AS t(user_id, item_id, event_type, event_time)", CancellationToken.None);
    }

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Evaluation:Mode"] = "temporal",
        ["Evaluation:TestDays"] = "7",
        ["Evaluation:K"] = "5",
        ["Similarity:MinSupport"] = "1",
        ["Similarity:MaxItemsPerUser"] = "6",
        ["Neighbors:MinOverlap"] = "1",
        ["Recommend:TopN"] = "5",
    };

    private static async Task<CfHarness> RunEvaluationAsync(IReadOnlyList<Event> events, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var h = await OpenAsync([], settings ?? Settings);
        await CreateCleanEventsAsync(h, events);
        await h.RunAsync([new AffinityStage(), .. CfStages(), .. EvaluationStages.All()]);
        return h;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Sql_metrics_equal_the_reference_computed_from_the_definitions(int seed)
    {
        var events = RandomEvents(seed);
        await using var h = await RunEvaluationAsync(events);
        var cutoff = AsOf.AddDays(-7);
        const int K = 5;

        // The hold-out, from the raw events: held-out pairs of every user, minus items the user had in training.
        var train = events.Where(e => e.Time < cutoff).ToList();
        var trainPairs = train.Select(e => (e.User, e.Item)).ToHashSet();
        var expectedRelevant = events.Where(e => e.Time >= cutoff && !trainPairs.Contains((e.User, e.Item)))
            .Select(e => (e.User, e.Item)).ToHashSet();
        var relevantRows = await h.ReadAsync(EvaluationStage.Relevant, "user_id, item_id");
        var relevant = relevantRows.Select(r => (S(r["user_id"]), S(r["item_id"]))).ToHashSet();
        Assert.True(expectedRelevant.SetEquals(relevant));
        Assert.NotEmpty(relevant);

        var usersOfItem = (await h.ReadAsync("eval_train_item_popularity", "item_id")).ToDictionary(r => S(r["item_id"]), r => (double)L(r["users"]), StringComparer.Ordinal);
        Assert.Equal(train.Select(e => e.Item).Distinct().Count(), usersOfItem.Count);
        var relevantByUser = relevant.GroupBy(x => x.Item1).ToDictionary(g => g.Key, g => g.Select(x => x.Item2).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        var historyPopularity = train.Select(e => (e.User, e.Item)).Distinct().Where(x => relevantByUser.ContainsKey(x.User)).Select(x => usersOfItem[x.Item]).Average();

        // A user without training history is scored on the back-fill list: the top K train items by popularity (ties: lowest id).
        var popularList = (await h.ReadAsync("eval_train_item_popularity", "item_id")).Where(r => D(r["popularity"]) > 0)
            .OrderByDescending(r => D(r["popularity"])).ThenBy(r => S(r["item_id"]), StringComparer.Ordinal).Take(K).Select(r => S(r["item_id"])).ToList();
        var trainUsers = train.Select(e => e.User).ToHashSet(StringComparer.Ordinal);

        var metrics = (await h.ReadAsync(EvaluationStage.Metrics, "source")).ToDictionary(r => S(r["source"]), StringComparer.Ordinal);
        Assert.Equal(EvaluationStage.Sources.Order(StringComparer.Ordinal), metrics.Keys.Order(StringComparer.Ordinal));
        foreach (var source in EvaluationStage.Sources)
        {
            var lists = (await h.ReadAsync("eval_recommendations_" + source, "user_id, \"rank\""))
                .GroupBy(r => S(r["user_id"])).ToDictionary(g => g.Key, g => g.Where(r => L(r["rank"]) <= K).Select(r => S(r["item_id"])).ToList(), StringComparer.Ordinal);
            double precision = 0, recall = 0, ndcg = 0, map = 0, hits = 0;
            var recommended = new HashSet<string>(StringComparer.Ordinal);
            var popularity = new List<double>();
            foreach (var (user, held) in relevantByUser)
            {
                var list = lists.GetValueOrDefault(user) ?? (trainUsers.Contains(user) ? [] : popularList);
                recommended.UnionWith(list);
                popularity.AddRange(list.Select(i => usersOfItem[i]));
                double hit = 0, dcg = 0, precisionSum = 0;
                for (var r = 1; r <= list.Count; r++)
                {
                    if (!held.Contains(list[r - 1])) continue;
                    hit++;
                    dcg += 1 / Math.Log2(r + 1);
                    precisionSum += hit / r;
                }
                var idcg = Enumerable.Range(1, Math.Min(K, held.Count)).Sum(r => 1 / Math.Log2(r + 1));
                precision += hit / K;
                recall += hit / held.Count;
                ndcg += dcg / idcg;
                map += precisionSum / Math.Min(K, held.Count);
                hits += hit > 0 ? 1 : 0;
            }
            var n = relevantByUser.Count;
            var row = metrics[source];
            Assert.Equal(n, L(row["users"]));
            Assert.Equal(precision / n, D(row["precision_at_k"]), 9);
            Assert.Equal(recall / n, D(row["recall_at_k"]), 9);
            Assert.Equal(ndcg / n, D(row["ndcg_at_k"]), 9);
            Assert.Equal(map / n, D(row["map_at_k"]), 9);
            Assert.Equal(hits / n, D(row["hit_rate_at_k"]), 9);
            Assert.Equal(recommended.Count / (double)usersOfItem.Count, D(row["coverage_at_k"]), 9);
            Assert.Equal(popularity.Count == 0 ? 0 : popularity.Average(), D(row["mean_popularity"]), 9);
            Assert.Equal(historyPopularity, D(row["history_mean_popularity"]), 9);
        }

        var evaluation = h.Context.Results.Get<EvaluationMetrics>();
        Assert.Equal(relevant.Count, evaluation.RelevantPairs);
        Assert.Equal(relevantByUser.Keys.Count(u => !trainUsers.Contains(u)), evaluation.ColdTestUsers);
        Assert.Equal(4, evaluation.Sources.Count);
    }

    [Fact]
    public async Task A_test_user_without_training_history_counts_with_the_back_fill_list()
    {
        var old = AsOf.AddDays(-20);
        var recent = AsOf.AddDays(-1);
        Event E(string user, string item, DateTime time) => new(user, item, "view", time);
        // Train: i1 has three users, i2 and i3 one each (equal popularity, so i2 ranks first by id).
        // Test: u1 (known) engages with i3; u9 (no training history) with i1 and i4.
        var events = new List<Event>
        {
            E("u1", "i1", old), E("u1", "i2", old), E("u2", "i1", old), E("u2", "i3", old), E("u3", "i1", old),
            E("u1", "i3", recent), E("u9", "i1", recent), E("u9", "i4", recent),
        };
        await using var h = await RunEvaluationAsync(events);

        var evaluation = h.Context.Results.Get<EvaluationMetrics>();
        Assert.Equal(2, evaluation.TestUsers);
        Assert.Equal(1, evaluation.ColdTestUsers);
        Assert.Equal(3, evaluation.RelevantPairs);
        // popular: u1 gets [i3] (i1, i2 seen): a hit at rank 1, nDCG 1. u9 gets [i1, i2, i3]: a hit at rank 1 of two held-out
        // items, nDCG 1 / (1 + 1/log2 3). Leaving u9 out, as the evaluation used to, would report 1.
        var popular = evaluation.Sources["popular"];
        Assert.Equal(2, popular.Users);
        Assert.Equal((1 + 1 / (1 + 1 / Math.Log2(3))) / 2, popular.NdcgAtK!.Value, 12);
        Assert.Equal(1.0, popular.HitRateAtK!.Value, 12);
        Assert.Equal((1 + 0.5) / 2, popular.RecallAtK!.Value, 12);
        Assert.All(evaluation.Sources.Values, source => Assert.Equal(2, source.Users));
    }

    [Theory]
    [InlineData("Recommend:UserWeight", "off")]
    [InlineData("Recommend:UserWeight", "auto")]
    [InlineData("Recommend:ItemWeight", "auto")]
    public async Task A_source_with_weight_0_is_not_computed_and_the_blend_is_unchanged(string weight, string kernels)
    {
        var events = RandomEvents(8);
        var settings = new Dictionary<string, string?>(Settings) { [weight] = "0", ["Engine:Kernels"] = kernels };
        var (off, on) = weight == "Recommend:UserWeight" ? ("user", "item") : ("item", "user");

        // Every stage as before: the source with weight 0 computed anyway, and its list evaluated.
        await using var all = await RunEvaluationAsync(events, settings);
        // The stages the plan keeps.
        await using var h = await OpenAsync([], settings);
        await CreateCleanEventsAsync(h, events);
        IStage[] stages = [new AffinityStage(), .. CfStages(), .. EvaluationStages.All()];
        // (EASE's stages are off too: Recommend:ItemModel is similarity.)
        var skipped = stages.Where(s => !s.IsEnabled(h.Context) && !s.Name.Contains("ease", StringComparison.Ordinal)).ToList();
        Assert.Equal([$"rec_{off}_scores", $"eval_train_rec_{off}_scores", $"eval_recommendations_{off}"], skipped.Select(s => s.Name));
        Assert.All(skipped, s => Assert.StartsWith($"{weight}=0", s.DisabledReason(h.Context), StringComparison.Ordinal));
        await h.RunAsync(stages.Where(s => s.IsEnabled(h.Context)));

        Assert.Empty(await h.Engine.QueryAsync($"SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%rec_{off}_scores'", CancellationToken.None));
        foreach (var table in new[] { "recommendations", "eval_recommendations_blend", $"eval_recommendations_{on}", "eval_recommendations_popular" })
            Assert.Equal(await all.ReadAsync(table, "user_id, \"rank\""), await h.ReadAsync(table, "user_id, \"rank\""));
        var sources = await h.ReadAsync("recommendations", "user_id, \"rank\"");
        Assert.Contains(sources, r => S(r["source"]) == on);
        Assert.DoesNotContain(sources, r => S(r["source"]) == off || S(r["source"]) == "blend");

        var metrics = h.Context.Results.Get<EvaluationMetrics>();
        Assert.Equal(new[] { "blend", on, "popular" }.Order(StringComparer.Ordinal), metrics.Sources.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(all.Context.Results.Get<EvaluationMetrics>().Sources["blend"], metrics.Sources["blend"]);
    }

    [Fact]
    public async Task The_test_period_cannot_change_the_train_model()
    {
        var events = RandomEvents(11);
        var cutoff = AsOf.AddDays(-7);
        // Same training period; a very different test period (new heavy users, new items, old items hammered).
        var random = new Random(5);
        var noisy = events.Where(e => e.Time < cutoff).ToList();
        for (var e = 0; e < 300; e++)
        {
            noisy.Add(new Event("u" + random.Next(0, 40).ToString(CultureInfo.InvariantCulture), "i" + random.Next(0, 30).ToString(CultureInfo.InvariantCulture),
                "share", cutoff.AddHours(random.Next(0, 7 * 24))));
        }

        string[] trainTables =
        [
            "eval_train_clean_events", "eval_train_affinity", "eval_train_item_popularity", "eval_train_cf_item_similarity", "eval_train_cf_user_neighbors",
            "eval_train_rec_item_scores", "eval_train_rec_user_scores",
            "eval_recommendations_popular", "eval_recommendations_item", "eval_recommendations_user", "eval_recommendations_blend",
        ];
        async Task<List<string>> SnapshotAsync(IReadOnlyList<Event> input)
        {
            await using var h = await RunEvaluationAsync(input);
            var latest = await h.Engine.QueryAsync("SELECT max(last_event_time) AS t FROM eval_train_affinity", CancellationToken.None);
            Assert.True((DateTime)latest[0]["t"]! < cutoff);
            var snapshot = new List<string>();
            foreach (var table in trainTables)
            {
                var rows = await h.Engine.QueryAsync($"SELECT * FROM {table} ORDER BY ALL", CancellationToken.None);
                snapshot.Add(table + ":" + string.Join("\n", rows.Select(r => string.Join("|", r.Values.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture))))));
            }
            return snapshot;
        }

        var original = await SnapshotAsync(events);
        var changed = await SnapshotAsync(noisy);
        Assert.Equal(original, changed);
    }

    [Fact]
    public async Task A_split_with_no_test_events_fails_with_a_clear_message()
    {
        var events = RandomEvents(2).Where(e => e.Time < AsOf.AddDays(-7)).ToList();
        await using var h = await OpenAsync([], Settings);
        await CreateCleanEventsAsync(h, events);
        await h.RunAsync([new AffinityStage(), .. CfStages()]);
        var e = await Assert.ThrowsAsync<SparkReco.Core.Errors.InputDataException>(() => h.RunAsync(EvaluationStages.All()));
        Assert.Contains("raise Evaluation:TestDays", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_sql_of_the_evaluation_names_every_train_table()
    {
        await using var h = await OpenAsync([], Settings);
        var sql = string.Join("\n", EvaluationStages.All().SelectMany(s => s.RenderSql(h.Context)));
        foreach (var table in new[] { "eval_train_clean_events", "eval_train_affinity", "eval_train_cf_users", "eval_train_cf_items", "eval_train_cf_item_similarity", "eval_train_cf_user_neighbors", "eval_relevant", "eval_metrics" })
            Assert.Contains($"CREATE OR REPLACE TABLE \"{table}\"", sql, StringComparison.Ordinal);
        Assert.DoesNotContain("FROM \"affinity\"", sql, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Random_split_holds_out_a_share_of_each_users_pairs_and_trains_on_the_rest()
    {
        var events = RandomEvents(21, count: 1500);
        var settings = new Dictionary<string, string?>(Settings) { ["Evaluation:Mode"] = "random", ["Evaluation:TestFraction"] = "0.25" };
        await using var h = await RunEvaluationAsync(events, settings);

        var pairs = events.Select(e => (e.User, e.Item)).ToHashSet();
        var test = (await h.ReadAsync(EvaluationStage.TestEvents, "user_id, item_id")).Select(r => (S(r["user_id"]), S(r["item_id"]))).ToHashSet();
        var train = (await h.ReadAsync("eval_train_clean_events", "user_id, item_id")).Select(r => (S(r["user_id"]), S(r["item_id"]))).ToHashSet();
        var trainModel = (await h.ReadAsync("eval_train_affinity", "user_id, item_id")).Select(r => (S(r["user_id"]), S(r["item_id"]))).ToHashSet();

        Assert.Empty(test.Intersect(train));                 // a held-out pair has no training event at all
        Assert.True(train.SetEquals(trainModel));             // the train model learned from the train pairs only
        Assert.True(pairs.SetEquals(test.Union(train)));       // every pair is on one side
        Assert.InRange(test.Count / (double)pairs.Count, 0.15, 0.35);
        Assert.True(test.Select(p => p.Item1).Distinct().Count() > 20, "most users get held-out items");

        var evaluation = h.Context.Results.Get<EvaluationMetrics>();
        Assert.Equal("random", evaluation.Mode);
        Assert.Equal(0.25, evaluation.TestFraction);

        // The split is a function of (seed, user, item) alone: the same again, and another seed moves pairs.
        await using var again = await RunEvaluationAsync(events, settings);
        Assert.True(test.SetEquals((await again.ReadAsync(EvaluationStage.TestEvents, "user_id, item_id")).Select(r => (S(r["user_id"]), S(r["item_id"])))));
        await using var other = await RunEvaluationAsync(events, new Dictionary<string, string?>(settings) { ["Evaluation:Seed"] = "7" });
        Assert.False(test.SetEquals((await other.ReadAsync(EvaluationStage.TestEvents, "user_id, item_id")).Select(r => (S(r["user_id"]), S(r["item_id"])))));
    }
}
