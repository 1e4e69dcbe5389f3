using SparkReco.Jobs.Stages;
using SparkReco.Jobs.Stages.Modelling;
using SparkReco.Tests.Support;
using static SparkReco.Tests.Support.TestParquet;

namespace SparkReco.Tests.Stages;

public sealed class UserFeaturesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Features_match_a_hand_computed_example()
    {
        // Event types sort to ev00 = like, ev01 = share, ev02 = view. Category B has more events, so it is cat00.
        var e1 = T0.AddDays(-10).AddHours(20); // evening
        var e2 = T0.AddDays(-1).AddHours(10);
        var e3 = T0.AddDays(-1).AddHours(12);
        await WriteEventsAsync(_dir.Combine("events.parquet"), [
            new("u1", "i1", "view", e1),
            new("u1", "i2", "like", e2),
            new("u1", "i2", "view", e3),
            new("u2", "i3", "share", T0.AddDays(-2).AddHours(19)),
        ]);
        await WriteItemsAsync(_dir.Combine("items.parquet"), [("i1", "A", null), ("i2", "B", null), ("i3", "B", null)]);
        await WriteFollowsAsync(_dir.Combine("follows.parquet"), [("u2", "u1"), ("u3", "u1")]);
        await using var h = await StageHarness.OpenAsync(new Dictionary<string, string?>
        {
            ["Input:Events"] = _dir.Combine("events.parquet"),
            ["Input:Items"] = _dir.Combine("items.parquet"),
            ["Input:Follows"] = _dir.Combine("follows.parquet"),
            ["Affinity:AsOf"] = "2026-11-01T00:00:00Z",
            ["Affinity:HalfLifeDays"] = "10",
            ["Affinity:EventWeights:view"] = "1",
            ["Affinity:EventWeights:like"] = "2",
            ["Affinity:EventWeights:share"] = "4",
        });
        await h.RunAsync(new CleanEventsStage(), new UserFeaturesStage());

        var rows = (await h.QueryAsync("SELECT * FROM user_features")).ToDictionary(r => (string)r["user_id"]!);
        Assert.Equal(2, rows.Count);
        var u1 = rows["u1"];
        static double Age(DateTime t) => (T0 - t).TotalDays;
        static double Decay(DateTime t) => Math.Pow(0.5, Age(t) / 10);
        Assert.Equal(Math.Log(4), (double)u1["log_events"]!, 12);
        Assert.Equal(Math.Log(2), (double)u1["ev00_log_count"]!, 12);
        Assert.Equal(Math.Log(1 + Decay(e2)), (double)u1["ev00_log_decayed"]!, 12);
        Assert.Equal(0.0, (double)u1["ev01_log_count"]!, 12);
        Assert.Equal(Math.Log(3), (double)u1["ev02_log_count"]!, 12);
        Assert.Equal(Math.Log(1 + Decay(e1) + Decay(e3)), (double)u1["ev02_log_decayed"]!, 12);
        Assert.Equal(2.0 / 3, (double)u1["ev02_share"]!, 12);
        Assert.Equal(0.5, (double)u1["recency_days"]!, 9);
        Assert.Equal(Math.Log(3), (double)u1["log_active_days"]!, 12);
        Assert.Equal(1.0 / 3, (double)u1["evening_share"]!, 12);
        Assert.Equal(2.0 / 3, (double)u1["cat00_share"]!, 12); // B
        Assert.Equal(1.0 / 3, (double)u1["cat01_share"]!, 12); // A
        Assert.Equal(-(2.0 / 3 * Math.Log(2.0 / 3) + 1.0 / 3 * Math.Log(1.0 / 3)), (double)u1["category_entropy"]!, 12);
        Assert.Equal(2.0, (double)u1["category_count"]!, 12);
        Assert.Equal(Math.Log(3), (double)u1["log_followers"]!, 12);
        Assert.Equal(0.0, (double)u1["log_followees"]!, 12);
        Assert.Equal(Math.Log(2), (double)rows["u2"]["log_followees"]!, 12);
        Assert.Equal(1.0, (double)rows["u2"]["evening_share"]!, 12);
        Assert.Equal(0.0, (double)rows["u2"]["category_entropy"]!, 12);

        var mapping = (IDictionary<string, string>)h.Context.Facts["user_features.columns"];
        Assert.Contains("'B'", mapping["cat00_share"], StringComparison.Ordinal);
        Assert.Contains("'like'", mapping["ev00_share"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_items_or_follows_those_features_are_absent()
    {
        await WriteEventsAsync(_dir.Combine("events.parquet"), [new("u1", "i1", "view", T0.AddDays(-1))]);
        await using var h = await StageHarness.OpenAsync(new Dictionary<string, string?>
        {
            ["Input:Events"] = _dir.Combine("events.parquet"),
            ["Affinity:AsOf"] = "2026-11-01T00:00:00Z",
        });
        await h.RunAsync(new CleanEventsStage(), new UserFeaturesStage());
        var columns = await h.Engine.ColumnsAsync("user_features", CancellationToken.None);
        Assert.Contains("log_events", columns);
        Assert.DoesNotContain(columns, c => c.StartsWith("cat", StringComparison.Ordinal) || c.StartsWith("category", StringComparison.Ordinal) || c.Contains("follow", StringComparison.Ordinal));
    }
}
