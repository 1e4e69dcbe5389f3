using System.Globalization;
using System.Text.Json;
using SparkReco.Core.Errors;
using SparkReco.Tests.Support;
using static SparkReco.Tests.Support.TestParquet;

namespace SparkReco.Tests.Recommend;

/// <summary>The CF tables, evaluation and report through the CLI: run, plan, evaluate; determinism and the power-user bound.</summary>
[Collection(CliCollection.Name)]
public sealed class RecommendCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly string[] Types = ["view", "like", "comment", "share"];

    /// <summary>Random events over 30 days before T0 with group structure (users of a group share items).</summary>
    private static List<TestEvent> RandomEvents(int seed, int users = 60, int count = 1500)
    {
        var random = new Random(seed);
        var events = new List<TestEvent>();
        for (var e = 0; e < count; e++)
        {
            var user = random.Next(0, users);
            var item = (user % 4) * 8 + random.Next(0, 12);
            events.Add(new TestEvent("u" + user.ToString(CultureInfo.InvariantCulture), "i" + item.ToString(CultureInfo.InvariantCulture),
                Types[random.Next(Types.Length)], T0.AddMinutes(-random.Next(0, 30 * 24 * 60))));
        }
        return events;
    }

    private static readonly string[] CommonArgs =
    [
        "--as-of", "2026-11-01T00:00:00Z",
        "--set", "Similarity:MinSupport=1", "--set", "Neighbors:MinOverlap=1", "--set", "Similarity:Measure=llr",
    ];

    private static async Task<CliRunner.Result> RunAsync(string events, string output, params string[] extra)
    {
        var result = await CliRunner.RunAsync(["run", "--events", events, "--output", output, .. CommonArgs, .. extra]);
        Assert.True(result.ExitCode == ExitCodes.Success, result.Error);
        return result;
    }

    [Fact]
    public async Task Run_publishes_the_cf_tables_metrics_and_report_and_a_second_run_is_identical()
    {
        var events = _dir.Combine("events.parquet");
        await WriteEventsAsync(events, RandomEvents(3));
        await RunAsync(events, _dir.Combine("out1"), "--set", "Evaluation:Mode=temporal");
        await RunAsync(events, _dir.Combine("out2"), "--set", "Evaluation:Mode=temporal");

        foreach (var table in new[] { "affinity", "item_similarity", "user_neighbors", "recommendations" })
        {
            var first = await ReadAllAsync(_dir.Combine("out1", table));
            var second = await ReadAllAsync(_dir.Combine("out2", table));
            Assert.NotEmpty(first);
            Assert.Equal(Flatten(first), Flatten(second));
        }

        var recommendations = await ReadAllAsync(_dir.Combine("out1", "recommendations"));
        Assert.All(recommendations, r => Assert.Contains((string)r["source"]!, new[] { "item", "user", "blend", "popular" }));
        Assert.Equal(60, recommendations.Select(r => r["user_id"]).Distinct().Count());
        Assert.All(recommendations.GroupBy(r => r["user_id"]), g => Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), g.Select(r => Convert.ToInt64(r["rank"], CultureInfo.InvariantCulture))));

        using var metrics = JsonDocument.Parse(await File.ReadAllTextAsync(_dir.Combine("out1", "metrics.json")));
        var sources = metrics.RootElement.GetProperty("metrics").GetProperty("evaluation").GetProperty("sources");
        foreach (var source in new[] { "popular", "item", "user", "blend" })
            Assert.InRange(sources.GetProperty(source).GetProperty("precision_at_k").GetDouble(), 0, 1);
        using var again = JsonDocument.Parse(await File.ReadAllTextAsync(_dir.Combine("out2", "metrics.json")));
        Assert.Equal(metrics.RootElement.GetProperty("metrics").GetRawText(), again.RootElement.GetProperty("metrics").GetRawText());

        var report = await File.ReadAllTextAsync(_dir.Combine("out1", "report.html"));
        Assert.Contains("<h2>Recommendations</h2>", report, StringComparison.Ordinal);
        Assert.Contains("Offline evaluation", report, StringComparison.Ordinal);
        Assert.Contains("item_similarity.pairs", report, StringComparison.Ordinal);
        Assert.Contains("<svg", report, StringComparison.Ordinal);
        var manifest = await File.ReadAllTextAsync(_dir.Combine("out1", "manifest.json"));
        Assert.Contains("user_neighbors.skipped_items", manifest, StringComparison.Ordinal);
    }

    private static List<string> Flatten(IEnumerable<IDictionary<string, object?>> rows) =>
        rows.Select(r => string.Join("|", r.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={Convert.ToString(kv.Value, CultureInfo.InvariantCulture)}"))).ToList();

    [Fact]
    public async Task A_power_user_with_100k_events_keeps_pair_generation_within_the_cap_bound()
    {
        var random = new Random(9);
        var events = RandomEvents(4, users: 40, count: 800);
        for (var e = 0; e < 100_000; e++)
            events.Add(new TestEvent("power", "p" + (e % 20_000).ToString(CultureInfo.InvariantCulture), "view", T0.AddSeconds(-random.Next(0, 30 * 86_400))));
        // The power user also touches the shared items, so it co-occurs with everyone.
        for (var i = 0; i < 44; i++) events.Add(new TestEvent("power", "i" + i.ToString(CultureInfo.InvariantCulture), "like", T0.AddDays(-1)));
        var path = _dir.Combine("events.parquet");
        await WriteEventsAsync(path, events);
        const int Cap = 300;
        await RunAsync(path, _dir.Combine("out"), "--set", $"Similarity:MaxItemsPerUser={Cap}");

        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(_dir.Combine("out", "manifest.json")));
        var pairs = manifest.RootElement.GetProperty("facts").GetProperty("item_similarity.pairs").GetInt64();
        long bound = 0;
        foreach (var user in events.GroupBy(e => e.User))
        {
            long m = Math.Min(user.Select(e => e.Item).Distinct().Count(), Cap);
            bound += m * (m - 1) / 2;
        }
        Assert.Equal(bound, pairs);
        long uncapped = 20_044L * 20_043 / 2;
        Assert.True(pairs < uncapped / 1000, $"{pairs} pairs");
        Assert.Equal(1, manifest.RootElement.GetProperty("facts").GetProperty("item_similarity.capped_users").GetInt64());
    }

    [Fact]
    public async Task Run_with_a_random_split_writes_a_report_that_names_the_split()
    {
        // Issue 8 item 6: the report read a "test_file" metric that only the files mode writes (KeyNotFoundException, exit 134).
        var events = _dir.Combine("events.parquet");
        await WriteEventsAsync(events, RandomEvents(5));
        await RunAsync(events, _dir.Combine("out"), "--set", "Evaluation:Mode=random");
        var report = await File.ReadAllTextAsync(_dir.Combine("out", "report.html"));
        Assert.Contains("random split holding out 0.2 of each user", report, StringComparison.Ordinal);
        Assert.Contains("seed 42", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_prints_readable_sql_for_every_cf_stage()
    {
        var result = await CliRunner.RunAsync("plan", "--set", "Evaluation:Mode=temporal");
        Assert.True(result.ExitCode == ExitCodes.Success, result.Error);
        foreach (var stage in new[] { "cf_affinity", "item_popularity", "cf_item_similarity", "item_similarity", "cf_user_neighbors", "user_neighbors", "rec_item_scores", "rec_user_scores", "recommendations", "eval_metrics" })
        {
            Assert.Contains($"-- ===== stage {stage}:", result.Out, StringComparison.Ordinal);
            Assert.Contains($"CREATE OR REPLACE TABLE \"{stage}\" AS\n-- {stage}: one row per", result.Out, StringComparison.Ordinal);
        }
        var similarity = result.Out[result.Out.IndexOf("-- ===== stage cf_item_similarity:", StringComparison.Ordinal)..result.Out.IndexOf("-- ===== stage item_similarity:", StringComparison.Ordinal)];
        Assert.True(similarity.Split('\n').Length > 60, similarity);
        Assert.Contains("row_number() OVER", similarity, StringComparison.Ordinal);
        Assert.DoesNotContain("QUALIFY", result.Out, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Evaluate_prints_metrics_for_each_source_and_writes_metrics_json()
    {
        var events = _dir.Combine("events.parquet");
        await WriteEventsAsync(events, RandomEvents(5));
        var result = await CliRunner.RunAsync(["evaluate", "--events", events, "--output", _dir.Combine("eval"), .. CommonArgs]);
        Assert.True(result.ExitCode == ExitCodes.Success, result.Error);
        Assert.Contains("precision@10", result.Out, StringComparison.Ordinal);
        foreach (var source in new[] { "popular", "item", "user", "blend" })
            Assert.Contains("\n" + source + " ", result.Out, StringComparison.Ordinal);
        Assert.True(File.Exists(_dir.Combine("eval", "metrics.json")));
        Assert.False(File.Exists(_dir.Combine("eval", "_SUCCESS")));

        // Files mode: train on the first 23 days, test on the last week.
        var all = RandomEvents(5);
        await WriteEventsAsync(_dir.Combine("train.parquet"), all.Where(e => e.Time < T0.AddDays(-7)).ToList());
        await WriteEventsAsync(_dir.Combine("test.parquet"), all.Where(e => e.Time >= T0.AddDays(-7)).ToList());
        var files = await CliRunner.RunAsync(["evaluate", "--train", _dir.Combine("train.parquet"), "--test", _dir.Combine("test.parquet"), .. CommonArgs]);
        Assert.True(files.ExitCode == ExitCodes.Success, files.Error);
        Assert.Contains("test file", files.Out, StringComparison.Ordinal);

        var missing = await CliRunner.RunAsync("evaluate", "--train", _dir.Combine("train.parquet"));
        Assert.Equal(ExitCodes.Usage, missing.ExitCode);
        Assert.Contains("--test", missing.Error, StringComparison.Ordinal);
    }
}
