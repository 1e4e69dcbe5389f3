using Xunit.Abstractions;
using System.Globalization;
using System.Text.Json;
using SparkReco.Core.Errors;
using SparkReco.Jobs.Stages;
using SparkReco.Jobs.Stages.Modelling;
using SparkReco.Modelling;
using SparkReco.Tests.Support;
using static SparkReco.Tests.Support.TestParquet;

namespace SparkReco.Tests.Stages;

[Collection(CliCollection.Name)]
public sealed class SegmentTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private Dictionary<string, string?> Settings(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Input:Events"] = _dir.Combine("events.parquet"),
            ["Input:Items"] = _dir.Combine("items.parquet"),
            ["Input:Follows"] = _dir.Combine("follows.parquet"),
            ["Affinity:AsOf"] = "2026-11-01T00:00:00Z",
        };
        foreach (var (key, value) in extra) settings[key] = value;
        return settings;
    }

    private static async Task<Dictionary<string, long>> SegmentsAsync(StageHarness h) =>
        (await h.QueryAsync("SELECT user_id, segment FROM segments")).ToDictionary(
            r => (string)r["user_id"]!, r => Convert.ToInt64(r["segment"], CultureInfo.InvariantCulture), StringComparer.Ordinal);

    [Fact]
    public async Task Segments_recover_planted_communities_with_automatic_k()
    {
        var data = PlantedCommunities.Generate([40, 40, 40, 40]);
        await data.WriteAsync(_dir.Path);
        await using var h = await StageHarness.OpenAsync(Settings());
        var segments = new SegmentsStage();
        await h.RunAsync(new CleanEventsStage(), new UserFeaturesStage(), segments);

        var assigned = await SegmentsAsync(h);
        var users = data.Community.Keys.Order(StringComparer.Ordinal).ToList();
        var ari = ClusteringMetrics.AdjustedRandIndex(users.Select(u => data.Community[u]).ToList(), users.Select(u => assigned[u]).ToList());
        output.WriteLine($"ARI {ari:F3}, k = {segments.LastFit!.Model.K}, silhouettes {string.Join(", ", segments.LastFit.SilhouetteByK)}; metrics {h.Context.Results.Get<SegmentMetrics>()}");
        Assert.True(ari >= 0.8, $"ARI {ari:F3} with k = {segments.LastFit!.Model.K}; silhouettes {string.Join(", ", segments.LastFit.SilhouetteByK)}");
        Assert.True(segments.LastFit!.Model.K == 4, $"k = {segments.LastFit.Model.K}, ARI {ari:F3}; silhouettes {string.Join(", ", segments.LastFit.SilhouetteByK)}");
    }

    [Fact]
    public async Task Sql_assignment_equals_mlnet_prediction_for_every_sampled_user()
    {
        var data = PlantedCommunities.Generate([30, 30, 30], ownShare: 0.6, seed: 11);
        await data.WriteAsync(_dir.Path);
        await using var h = await StageHarness.OpenAsync(Settings(("Segments:K", "5")));
        var segments = new SegmentsStage();
        await h.RunAsync(new CleanEventsStage(), new UserFeaturesStage(), segments);

        var fit = segments.LastFit!;
        var predicted = fit.Model.Predict(fit.SampleRows);
        var assigned = await SegmentsAsync(h);
        Assert.Equal(90, fit.SampleUsers.Count);
        Assert.Equal(5, fit.Model.K);
        for (var i = 0; i < fit.SampleUsers.Count; i++)
            Assert.True(predicted[i] == assigned[fit.SampleUsers[i]], $"user {fit.SampleUsers[i]}: ML.NET {predicted[i]}, SQL {assigned[fit.SampleUsers[i]]}");
        Assert.Equal(1.0, h.Context.Results.Get<SegmentMetrics>().SqlVsDriverSampleAgreement);

        // The distance column is the Euclidean distance to the assigned centroid in standardised space.
        var distances = (await h.QueryAsync("SELECT user_id, distance FROM segments")).ToDictionary(r => (string)r["user_id"]!, r => (double)r["distance"]!);
        for (var i = 0; i < fit.SampleUsers.Count; i++)
        {
            var centroid = fit.Model.Centroids[predicted[i]];
            var expected = Math.Sqrt(fit.SampleRows[i].Select((z, f) => (z - centroid[f]) * (z - centroid[f])).Sum());
            Assert.Equal(expected, distances[fit.SampleUsers[i]], 4);
        }
    }

    [Fact]
    public async Task Sampling_and_fitting_are_deterministic()
    {
        var data = PlantedCommunities.Generate([25, 25, 25], seed: 5);
        await data.WriteAsync(_dir.Path);
        var settings = Settings(("Segments:MaxSampleUsers", "50"));
        Dictionary<string, long> first, second;
        await using (var h = await StageHarness.OpenAsync(settings))
        {
            await h.RunAsync(new CleanEventsStage(), new UserFeaturesStage(), new SegmentsStage());
            first = await SegmentsAsync(h);
        }
        await using (var h = await StageHarness.OpenAsync(settings))
        {
            await h.RunAsync(new CleanEventsStage(), new UserFeaturesStage(), new SegmentsStage());
            second = await SegmentsAsync(h);
        }
        Assert.Equal(75, first.Count);
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Segments_below_k_anonymity_are_suppressed_and_counted()
    {
        // Three big communities on categories a–f; a tiny one (3 users) on g–h, which nobody else touches.
        var data = PlantedCommunities.Generate([30, 30, 30, 3], ownShare: 0.9, noiseCategories: 6, seed: 3);
        await data.WriteAsync(_dir.Path);
        var result = await CliRunner.RunAsync("run", "--events", _dir.Combine("events.parquet"), "--items", _dir.Combine("items.parquet"),
            "--follows", _dir.Combine("follows.parquet"), "--output", _dir.Combine("out"), "--as-of", "2026-11-01T00:00:00Z",
            "--set", "Segments:K=4", "--set", "Privacy:KAnonymity=10");
        Assert.True(result.ExitCode == ExitCodes.Success, result.Error);

        var profiles = await ReadAllAsync(_dir.Combine("out", "segment_profiles"));
        Assert.Equal(3, profiles.Count);
        Assert.All(profiles, p => Assert.True(Convert.ToInt64(p["users"], CultureInfo.InvariantCulture) >= 10));
        Assert.Equal(90L, profiles.Sum(p => Convert.ToInt64(p["users"], CultureInfo.InvariantCulture)));
        Assert.DoesNotContain(profiles, p => Convert.ToInt64(p["segment"], CultureInfo.InvariantCulture) == SegmentProfilesStage.Other);
        Assert.All(profiles, p => Assert.False(string.IsNullOrWhiteSpace((string?)p["label"])));

        // The tiny segment still exists in `segments` (users are assigned) but is only counted in the manifest.
        var segments = await ReadAllAsync(_dir.Combine("out", "segments"));
        var tiny = data.Community.Where(kv => kv.Value == 3).Select(kv => kv.Key).ToHashSet();
        Assert.Single(segments.Where(r => tiny.Contains((string)r["user_id"]!)).Select(r => r["segment"]).Distinct());

        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(_dir.Combine("out", "manifest.json")));
        var facts = manifest.RootElement.GetProperty("facts");
        Assert.Equal(1, facts.GetProperty("segment_profiles.suppressed_segments").GetInt32());
        Assert.Equal(3, facts.GetProperty("segment_profiles.suppressed_users").GetInt32());
        Assert.Equal("withheld", facts.GetProperty("segment_profiles.other_row").GetString());

        var report = await File.ReadAllTextAsync(_dir.Combine("out", "report.html"));
        Assert.Contains("Segments", report, StringComparison.Ordinal);
        Assert.Contains("Propensity scores", report, StringComparison.Ordinal);
    }
}
