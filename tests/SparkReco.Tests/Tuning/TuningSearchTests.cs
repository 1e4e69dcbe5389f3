using SparkReco.Cli;
using SparkReco.Jobs.Tuning;
using SparkReco.Tests.Support;

namespace SparkReco.Tests.Tuning;

public sealed class TuningSearchTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly IReadOnlyList<TuningDimension> Grid =
    [
        new("a", [new("a1", new Dictionary<string, string> { ["A"] = "1" }), new("a2", new Dictionary<string, string> { ["A"] = "2" }), new("a3", new Dictionary<string, string> { ["A"] = "3" })]),
        new("b", [new("b1", new Dictionary<string, string> { ["B"] = "1" }), new("b2", new Dictionary<string, string> { ["B"] = "2" })]),
        new("c only with b=2", [new("c9", new Dictionary<string, string> { ["C"] = "9" })], s => s["B"] == "2"),
    ];

    /// <summary>A score with a single peak at A=2, B=2, C=9, so coordinate ascent reaches it in one pass.</summary>
    private static Task<double> Score(IReadOnlyDictionary<string, string> s, CancellationToken _) =>
        Task.FromResult(-Math.Abs(int.Parse(s["A"]) - 2) - Math.Abs(int.Parse(s["B"]) - 2) + (s.TryGetValue("C", out var c) && c == "9" ? 0.5 : 0));

    [Fact]
    public async Task Coordinate_ascent_keeps_strict_improvements_and_reaches_the_peak()
    {
        var seen = new List<TuningTrial>();
        var result = await new TuningSearch(Grid, TimeSpan.FromMinutes(5)).RunAsync(
            new Dictionary<string, string> { ["A"] = "1", ["B"] = "1", ["C"] = "0" }, Score, seen.Add, CancellationToken.None);

        Assert.Equal(new Dictionary<string, string> { ["A"] = "2", ["B"] = "2", ["C"] = "9" }, result.Best);
        Assert.Equal(0.5, result.BestScore);
        Assert.Equal(-2, result.BaselineScore);
        Assert.Equal(result.Trials, seen);
        // The start, a2 and a3 (a1 is the start), b2 (b1 is the start), then c9, which only applies once B=2; the second
        // pass tries what changed context (a1, a3, b1 with C=9; c9 itself was tried), improves nothing and stops.
        Assert.Equal(["the given settings", "a2", "a3", "b2", "c9", "a1", "a3", "b1"], result.Trials.Select(t => t.Choice));
        Assert.Equal([true, true, false, true, true, false, false, false], result.Trials.Select(t => t.Improved));
        Assert.Equal("no choice of any dimension improved on the best settings", result.StoppedBecause);
    }

    [Fact]
    public async Task The_budget_stops_the_search_before_a_trial_would_overrun_it()
    {
        var result = await new TuningSearch(Grid, TimeSpan.Zero).RunAsync(
            new Dictionary<string, string> { ["A"] = "1", ["B"] = "1" }, Score, null, CancellationToken.None);
        Assert.Single(result.Trials);
        Assert.StartsWith("the time budget (0 s) would be exceeded", result.StoppedBecause, StringComparison.Ordinal);
        Assert.Equal(new Dictionary<string, string> { ["A"] = "1", ["B"] = "1" }, result.Best);
    }

    [Fact]
    public void Tuned_settings_are_written_as_a_configuration_that_the_settings_loader_reads_back()
    {
        var tuned = new Dictionary<string, string>
        {
            ["Similarity:Measure"] = "rp3beta",
            ["Similarity:Rp3Beta"] = "0.4",
            ["Recommend:ItemWeight"] = "0.6",
            ["Recommend:UserWeight"] = "0.4",
            ["Neighbors:TopK"] = "20",
            ["Recommend:ItemModel"] = "similarity",
        };
        var path = _dir.Combine("tuned.json");
        File.WriteAllText(path, TuningSearch.ToConfigJson(tuned));
        var settings = SettingsLoader.Load(path, new Dictionary<string, string?>());
        Assert.Equal("rp3beta", settings.Similarity.Measure);
        Assert.Equal(0.4, settings.Similarity.Rp3Beta);
        Assert.Equal(0.6, settings.Recommend.ItemWeight);
        Assert.Equal(0.4, settings.Recommend.UserWeight);
        Assert.Equal(20, settings.Neighbors.TopK);
        Assert.Equal("similarity", settings.Recommend.ItemModel);
    }

    [Fact]
    public void Every_tuned_key_has_a_starting_value_that_matches_the_default_choice()
    {
        var current = SparkReco.Cli.Commands.TuneCommand.Current(SettingsLoader.Load(null, new Dictionary<string, string?>()));
        Assert.All(TuningSearch.DefaultKeys, key => Assert.True(current.ContainsKey(key), $"{key} has no starting value"));
        // The defaults appear as choices, so the search does not evaluate them twice.
        Assert.Contains(TuningSearch.DefaultDimensions.Single(d => d.Name == "half-life (days)").Choices, c => c.Settings["Affinity:HalfLifeDays"] == current["Affinity:HalfLifeDays"]);
        Assert.Contains(TuningSearch.DefaultDimensions.Single(d => d.Name == "blend weights (item, user)").Choices,
            c => c.Settings["Recommend:ItemWeight"] == current["Recommend:ItemWeight"] && c.Settings["Recommend:UserWeight"] == current["Recommend:UserWeight"]);
    }
}
