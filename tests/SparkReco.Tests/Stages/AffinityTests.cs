using SparkReco.Core.Errors;
using SparkReco.Tests.Support;
using static SparkReco.Tests.Support.TestParquet;

namespace SparkReco.Tests.Stages;

[Collection(CliCollection.Name)]
public sealed class AffinityTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Affinity_matches_a_hand_computed_example_with_decay_and_type_weights()
    {
        // as_of = T0; half-life 10 days; weights view=1, like=2, share=4.
        await WriteEventsAsync(_dir.Combine("events.parquet"), [
            new("u1", "i1", "view", T0),                 // 1 · 0.5^0        = 1
            new("u1", "i1", "like", T0.AddDays(-10)),    // 2 · 0.5^1        = 1
            new("u1", "i1", "share", T0.AddDays(-20)),   // 4 · 0.5^2        = 1
            new("u1", "i2", "view", T0.AddDays(-5)),     // 1 · 0.5^0.5      = 0.70710678…
            new("u2", "i1", "like", T0.AddHours(-12)),   // 2 · 0.5^(0.5/10) = 1.93187…
        ]);
        var result = await CliRunner.RunAsync("run", "--events", _dir.Combine("events.parquet"), "--output", _dir.Combine("out"),
            "--as-of", "2026-11-01T00:00:00Z", "--set", "Affinity:HalfLifeDays=10", "--set", "Affinity:EventWeights:view=1",
            "--set", "Affinity:EventWeights:like=2", "--set", "Affinity:EventWeights:share=4");
        Assert.True(result.ExitCode == ExitCodes.Success, result.Error);

        var rows = (await ReadAllAsync(_dir.Combine("out", "affinity"))).ToDictionary(r => $"{r["user_id"]}/{r["item_id"]}");
        Assert.Equal(3, rows.Count);
        Assert.Equal(3.0, (double)rows["u1/i1"]["affinity"]!, 12);
        Assert.Equal(Math.Sqrt(0.5), (double)rows["u1/i2"]["affinity"]!, 12);
        Assert.Equal(2 * Math.Pow(0.5, 0.05), (double)rows["u2/i1"]["affinity"]!, 12);
        Assert.Equal(3L, Convert.ToInt64(rows["u1/i1"]["event_count"]));
        Assert.True(File.Exists(_dir.Combine("out", "manifest.json")));
        Assert.True(File.Exists(_dir.Combine("out", "_SUCCESS")));
    }

    [Fact]
    public async Task Weight_column_multiplies_the_event_type_weight()
    {
        await WriteEventsAsync(_dir.Combine("events.parquet"), [
            new("u1", "i1", "view", T0, 3.0),
            new("u1", "i1", "view", T0.AddDays(-30), null), // no weight ⇒ 1, decayed by one half-life
        ], withWeight: true);
        var result = await CliRunner.RunAsync("run", "--events", _dir.Combine("events.parquet"), "--output", _dir.Combine("out"),
            "--as-of", "2026-11-01T00:00:00Z", "--set", "Affinity:HalfLifeDays=30");
        Assert.True(result.ExitCode == ExitCodes.Success, result.Error);
        var row = Assert.Single(await ReadAllAsync(_dir.Combine("out", "affinity")));
        Assert.Equal(3.5, (double)row["affinity"]!, 12);
    }

    [Fact]
    public async Task Log1p_transform_dampens_heavy_tailed_weights()
    {
        await WriteEventsAsync(_dir.Combine("events.parquet"), [new("u1", "i1", "play", T0, 99.0), new("u1", "i2", "play", T0, 0.0)], withWeight: true);
        var result = await CliRunner.RunAsync("run", "--events", _dir.Combine("events.parquet"), "--output", _dir.Combine("out"),
            "--as-of", "2026-11-01T00:00:00Z", "--set", "Affinity:EventWeights:play=2", "--set", "Affinity:WeightTransform=log1p");
        Assert.True(result.ExitCode == ExitCodes.Success, result.Error);
        var rows = (await ReadAllAsync(_dir.Combine("out", "affinity"))).ToDictionary(r => (string)r["item_id"]!);
        Assert.Equal(2 * Math.Log(100), (double)rows["i1"]["affinity"]!, 12);
        Assert.Equal(0.0, (double)rows["i2"]["affinity"]!, 12);
    }
}
