using System.Text.Json;
using SparkReco.Tests.Support;
using static SparkReco.Tests.Support.TestParquet;

namespace SparkReco.Tests.Stages;

[Collection(CliCollection.Name)]
public sealed class CleanEventsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private async Task<JsonElement> RunAsync(IReadOnlyList<TestEvent> events, params string[] extra)
    {
        await WriteEventsAsync(_dir.Combine("events.parquet"), events);
        var result = await CliRunner.RunAsync(["run", "--events", _dir.Combine("events.parquet"), "--output", _dir.Combine("out"), .. extra]);
        Assert.True(result.ExitCode == 0, result.Error);
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(_dir.Combine("out", "manifest.json")));
        return manifest.RootElement.GetProperty("facts").Clone();
    }

    [Fact]
    public async Task Exact_duplicates_are_dropped_and_counted()
    {
        var e = new TestEvent("u1", "i1", "view", T0);
        var facts = await RunAsync([e, e, e, new("u1", "i1", "view", T0.AddSeconds(-1)), new("u2", "i1", "like", T0)]);
        Assert.Equal(2, facts.GetProperty("clean_events.dropped").GetProperty("duplicate").GetInt64());
        Assert.Equal(3, facts.GetProperty("clean_events.rows_out").GetInt64());
        var affinity = await ReadAllAsync(_dir.Combine("out", "affinity"));
        Assert.Equal(2L, Convert.ToInt64(affinity.Single(r => (string)r["user_id"]! == "u1")["event_count"]));
    }

    [Fact]
    public async Task Bots_above_the_threshold_are_removed_and_counted()
    {
        var events = new List<TestEvent>();
        for (var i = 0; i < 50; i++) events.Add(new("bot", $"i{i}", "view", T0.AddMinutes(-i)));
        for (var i = 0; i < 10; i++) events.Add(new("heavy", $"i{i}", "view", T0.AddMinutes(-i)));
        events.Add(new("u1", "i1", "like", T0));
        var facts = await RunAsync(events, "--set", "Clean:BotMaxEventsPerUser=10");
        Assert.Equal(1, facts.GetProperty("clean_events.bot_users").GetInt64());
        Assert.Equal(50, facts.GetProperty("clean_events.dropped").GetProperty("bot").GetInt64());
        var users = (await ReadAllAsync(_dir.Combine("out", "affinity"))).Select(r => (string)r["user_id"]!).Distinct().Order().ToList();
        Assert.Equal(["heavy", "u1"], users); // exactly at the threshold is kept
    }

    [Fact]
    public async Task Lookback_window_keeps_only_recent_events_and_counts_the_rest()
    {
        var facts = await RunAsync(
            [new("u1", "i1", "view", T0), new("u1", "i2", "view", T0.AddDays(-6)), new("u1", "i3", "view", T0.AddDays(-8))],
            "--set", "Clean:LookbackDays=7");
        Assert.Equal(1, facts.GetProperty("clean_events.dropped").GetProperty("outside_window").GetInt64());
        Assert.Equal(2, (await ReadAllAsync(_dir.Combine("out", "affinity"))).Count);
    }

    [Fact]
    public async Task Invalid_rows_can_be_dropped_with_counts_per_reason()
    {
        var facts = await RunAsync(
            [new("u1", "i1", "view", T0), new(null, "i1", "view", T0), new("u1", "i1", "view", new DateTime(1980, 1, 1, 0, 0, 0, DateTimeKind.Utc))],
            "--set", "Clean:InvalidRows=drop");
        var dropped = facts.GetProperty("clean_events.dropped");
        Assert.Equal(1, dropped.GetProperty("null_user_id").GetInt64());
        Assert.Equal(1, dropped.GetProperty("before_1990").GetInt64());
        Assert.Single(await ReadAllAsync(_dir.Combine("out", "affinity")));
    }

    [Fact]
    public async Task Events_after_an_explicit_as_of_are_left_out()
    {
        await RunAsync([new("u1", "i1", "view", T0), new("u1", "i2", "view", T0.AddDays(-3))], "--as-of", "2026-10-30T00:00:00Z");
        var row = Assert.Single(await ReadAllAsync(_dir.Combine("out", "affinity")));
        Assert.Equal("i2", row["item_id"]);
    }
}
