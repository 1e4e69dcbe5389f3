using System.Globalization;
using SparkReco.Core.Stages;
using static SparkReco.Tests.Recommend.CfHarness;

namespace SparkReco.Tests.Recommend;

/// <summary>
/// The C# kernels against their definition, the stage SQL: on random inputs with ties, active caps, cut-offs and every
/// measure, Engine:Kernels=auto and =off produce the same tables row for row — same ids, same order, the same bits in
/// every score — and the same facts.
/// </summary>
public sealed class KernelEquivalenceTests
{
    /// <summary>The CF tables and the key that orders each.</summary>
    private static readonly (string Table, string Order)[] Tables =
    [
        ("cf_users", "user_ix"),
        ("cf_items", "item_ix"),
        ("cf_item_similarity", "item_ix, \"rank\""),
        ("item_similarity", "item_id, \"rank\""),
        ("cf_item_ease", "item_ix, \"rank\""),
        ("cf_user_neighbors", "user_ix, \"rank\""),
        ("user_neighbors", "user_id, \"rank\""),
        ("rec_item_scores", "user_ix, \"rank\""),
        ("rec_user_scores", "user_ix, \"rank\""),
        ("cf_recommendations", "user_ix, \"rank\""),
        ("recommendations", "user_id, \"rank\""),
    ];

    public static TheoryData<int, string> SeedsAndMeasures()
    {
        var data = new TheoryData<int, string>();
        var measures = new[] { "cooccurrence", "jaccard", "lift", "cosine", "llr", "inclusion", "rp3beta" };
        for (var seed = 101; seed <= 136; seed++) data.Add(seed, measures[seed % measures.Length]);
        return data;
    }

    [Theory]
    [MemberData(nameof(SeedsAndMeasures))]
    public async Task Kernels_give_the_same_tables_as_the_sql(int seed, string measure)
    {
        var affinity = Affinity(seed);
        var users = affinity.Select(r => r.User).Distinct().Count();
        var settings = CfOracleTests.RandomSettings(seed, measure, users);
        // Every third seed scores with EASE's weights (most popular items fitted, the measure for the rest).
        if (seed % 3 == 0)
        {
            settings["Recommend:ItemModel"] = "ease";
            settings["Ease:MaxItems"] = (3 + seed % 7).ToString(CultureInfo.InvariantCulture);
            settings["Ease:Lambda"] = seed % 2 == 0 ? "2" : "20";
        }

        settings["Engine:Kernels"] = "off";
        await using var sql = await OpenAsync(affinity, settings);
        await sql.RunCfAsync();

        settings["Engine:Kernels"] = "auto";
        settings["Engine:Threads"] = "3"; // several threads, so a result that depended on scheduling would show
        await using var kernel = await OpenAsync(affinity, settings);
        await kernel.RunCfAsync();

        foreach (var (table, order) in Tables)
        {
            var expected = await sql.ReadAsync(table, order);
            var actual = await kernel.ReadAsync(table, order);
            if (table is "cf_users" or "cf_items" or "cf_item_similarity") Assert.True(expected.Count > 0, $"{table} is empty: the input does not exercise it");
            Assert.Equal(expected.Count, actual.Count);
            for (var r = 0; r < expected.Count; r++)
            {
                Assert.Equal(expected[r].Keys, actual[r].Keys);
                foreach (var (column, value) in expected[r])
                {
                    var got = actual[r][column];
                    Assert.True(Equals(value, got), $"{table} row {r + 1} column {column}: SQL {Show(value)}, kernel {Show(got)}");
                    Assert.Equal(value?.GetType(), got?.GetType());
                }
            }
        }
        // Work estimates belong to the SQL path; timings (EASE's fit) differ run to run.
        static bool Compared(KeyValuePair<string, object> f) => !f.Key.EndsWith(".work_estimate", StringComparison.Ordinal) && !f.Key.Contains(".seconds_", StringComparison.Ordinal);
        var facts = sql.Context.Facts.Where(Compared).OrderBy(f => f.Key, StringComparer.Ordinal);
        Assert.Equal(facts, kernel.Context.Facts.Where(Compared).OrderBy(f => f.Key, StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_work_budget_stops_the_run_before_pairs_are_generated_and_names_the_settings()
    {
        var affinity = Affinity(7);
        var settings = CfOracleTests.RandomSettings(7, "jaccard", 20);
        settings["Engine:MaxPairs"] = "5";
        await using var h = await OpenAsync(affinity, settings);
        await h.RunAsync(CfStages().Take(2));
        var error = await Assert.ThrowsAsync<SparkReco.Core.Errors.ConfigurationException>(() => h.RunAsync(CfStages().Skip(2).Take(1)));
        Assert.Contains("Engine:MaxPairs", error.Message, StringComparison.Ordinal);
        Assert.Contains("Similarity:MaxItemsPerUser", error.Message, StringComparison.Ordinal);
        Assert.Empty(await h.Engine.QueryAsync("SELECT table_name FROM information_schema.tables WHERE table_name IN ('cf_item_baskets', 'cf_item_cooccurrence', 'cf_item_similarity')", CancellationToken.None));
    }

    /// <summary>Random affinity with many exact ties (few values, few times) and more rows than the oracle tests, so the caps bind.</summary>
    private static List<AffinityRow> Affinity(int seed)
    {
        var random = new Random(seed);
        var users = random.Next(15, 60);
        var items = random.Next(8, 30);
        double[] values = [0.5, 1, 1, 2, 3.25, 1.0 / 3];
        var rows = new List<AffinityRow>();
        for (var u = 0; u < users; u++)
        {
            var count = u % 9 == 0 ? items : random.Next(1, Math.Min(items, 10) + 1);
            foreach (var i in Enumerable.Range(0, items).OrderBy(_ => random.Next()).Take(count))
            {
                var value = random.Next(30) == 0 ? 0.0 : random.Next(5) == 0 ? Math.Round(random.NextDouble() * 4, 3) : values[random.Next(values.Length)];
                rows.Add(new AffinityRow("u" + u.ToString(CultureInfo.InvariantCulture), "i" + i.ToString(CultureInfo.InvariantCulture), value,
                    AsOf.AddDays(-random.Next(0, 3))));
            }
        }
        return rows;
    }

    private static string Show(object? value) => value is double d ? d.ToString("R", CultureInfo.InvariantCulture) : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "NULL";
}
