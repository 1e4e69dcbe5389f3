using Xunit.Abstractions;
using System.Globalization;
using SparkReco.Jobs.Stages;
using SparkReco.Jobs.Stages.Modelling;
using SparkReco.Tests.Support;

namespace SparkReco.Tests.Stages;

public sealed class ScoreTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private async Task<StageHarness> RunAsync(UserScoresStage scores, params (string Key, string Value)[] extra)
    {
        var data = PlantedCommunities.Generate([80, 80, 80, 80], ownShare: 0.8, seed: 21);
        await data.WriteAsync(_dir.Path);
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Input:Events"] = _dir.Combine("events.parquet"),
            ["Input:Items"] = _dir.Combine("items.parquet"),
            ["Input:Follows"] = _dir.Combine("follows.parquet"),
            ["Affinity:AsOf"] = "2026-11-01T00:00:00Z",
            ["Scores:HorizonDays"] = "14",
        };
        foreach (var (key, value) in extra) settings[key] = value;
        var h = await StageHarness.OpenAsync(settings);
        await h.RunAsync(new CleanEventsStage(), new UserFeaturesStage(), scores);
        return h;
    }

    [Fact]
    public async Task Sql_probabilities_equal_mlnet_predictions_on_the_same_rows()
    {
        var scores = new UserScoresStage();
        await using var h = await RunAsync(scores);
        var fit = scores.LastFit!;

        // Every user's as_of features, standardised with the model's own statistics, through ML.NET …
        var rows = await h.QueryAsync($"SELECT f.user_id, {fit.Standardised.ZColumns(h.Context, "f.")} FROM user_features AS f {fit.Standardised.Join(h.Context)} ORDER BY f.user_id");
        var vectors = rows.Select(fit.Standardised.Vector).ToList();
        var expected = fit.Model.PredictProbabilities(vectors);
        // ML.NET's own predicted class names (through its key-to-value map) pin down the class order of the exported weights.
        var predictedClasses = fit.Model.PredictClasses(vectors);
        // … against what the engine computed with the exported weights.
        var sql = (await h.QueryAsync("SELECT user_id, class, probability, \"rank\" FROM user_scores")).ToDictionary(
            r => ((string)r["user_id"]!, (string)r["class"]!), r => (Probability: (double)r["probability"]!, Rank: Convert.ToInt64(r["rank"], CultureInfo.InvariantCulture)));

        Assert.Equal(320, rows.Count);
        Assert.Equal(rows.Count * fit.Model.Classes.Count, sql.Count);
        var maxDifference = 0.0;
        for (var i = 0; i < rows.Count; i++)
        {
            var user = (string)rows[i]["user_id"]!;
            Assert.Equal(1.0, fit.Model.Classes.Sum(cl => sql[(user, cl)].Probability), 9);
            for (var k = 0; k < fit.Model.Classes.Count; k++)
                maxDifference = Math.Max(maxDifference, Math.Abs(expected[i][k] - sql[(user, fit.Model.Classes[k])].Probability));
            var best = fit.Model.Classes.OrderByDescending(cl => sql[(user, cl)].Probability).ThenBy(cl => cl, StringComparer.Ordinal).First();
            Assert.Equal(1L, sql[(user, best)].Rank);
            Assert.Equal(predictedClasses[i], best);
        }
        output.WriteLine($"max |SQL - ML.NET| = {maxDifference:E2} over {rows.Count} users x {fit.Model.Classes.Count} classes");
        Assert.True(h.Context.Results.Get<PropensityMetrics>().SqlVsMlnetMaxAbsDiff <= 1e-5);
        Assert.True(maxDifference <= 1e-5, $"max |SQL − ML.NET| = {maxDifference:E2}");
    }

    [Fact]
    public async Task Model_beats_the_baselines_on_planted_preferences_and_reports_them()
    {
        var scores = new UserScoresStage();
        await using var h = await RunAsync(scores);
        var m = h.Context.Results.Get<PropensityMetrics>();
        output.WriteLine($"hold-out {m.HoldoutUsers}: log-loss {m.HoldoutLogLoss} (prior {m.BaselinePriorLogLoss}, majority {m.BaselineMajorityLogLoss}); accuracy {m.HoldoutAccuracy} (majority {m.BaselineMajorityAccuracy})");

        Assert.True(m.HoldoutUsers > 10, "hold-out too small");
        Assert.True(m.HoldoutLogLoss < m.BaselinePriorLogLoss, $"log-loss {m.HoldoutLogLoss} vs prior {m.BaselinePriorLogLoss}");
        Assert.True(m.HoldoutAccuracy > m.BaselineMajorityAccuracy, $"accuracy {m.HoldoutAccuracy} vs majority {m.BaselineMajorityAccuracy}");
        Assert.True(m.BaselineMajorityLogLoss > m.BaselinePriorLogLoss);
    }

    [Fact]
    public async Task Label_is_the_category_of_the_first_engagement_after_the_cutoff()
    {
        var t0 = TestParquet.T0;
        await TestParquet.WriteEventsAsync(_dir.Combine("events.parquet"), [
            new("u1", "a1", "view", t0.AddDays(-20)),
            new("u1", "b1", "view", t0.AddDays(-3)),  // first after the cutoff (as_of − 7 days): B
            new("u1", "a1", "like", t0.AddDays(-2)),
            new("u2", "a1", "view", t0.AddDays(-10)), // nothing after the cutoff: no label
            new("u3", "c1", "view", t0.AddDays(-1)),  // C has no feature column (MaxCategories = 2): the "(other)" class
            new("u4", "a1", "view", t0.AddDays(-5)),
            new("u4", "a2", "view", t0.AddDays(-6)),
        ]);
        await TestParquet.WriteItemsAsync(_dir.Combine("items.parquet"), [("a1", "A", null), ("a2", "A", null), ("b1", "B", null), ("c1", "C", null)]);
        await using var h = await StageHarness.OpenAsync(new Dictionary<string, string?>
        {
            ["Input:Events"] = _dir.Combine("events.parquet"),
            ["Input:Items"] = _dir.Combine("items.parquet"),
            ["Affinity:AsOf"] = "2026-11-01T00:00:00Z",
            ["Scores:HorizonDays"] = "7",
            ["Features:MaxCategories"] = "2",
        });
        await h.RunAsync(new CleanEventsStage(), new UserFeaturesStage());
        var spec = h.Context.Results.Get<FeatureSpec>();
        Assert.Equal(["A", "B"], spec.Categories);
        var labels = (await h.QueryAsync(UserScoresStage.RenderLabels(h.Context, spec))).ToDictionary(r => (string)r["user_id"]!, r => (string)r["label"]!);
        Assert.Equal(new Dictionary<string, string> { ["u1"] = "B", ["u3"] = UserScoresStage.OtherClass, ["u4"] = "A" }, labels);
    }
}
