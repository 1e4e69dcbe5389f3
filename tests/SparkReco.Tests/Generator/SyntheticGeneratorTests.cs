using SparkReco.Tests.Support;
using SparkReco.Core.Errors;
using SparkReco.Generator;

namespace SparkReco.Tests.Generator;

public sealed class SyntheticGeneratorTests(GeneratedData data) : IClassFixture<GeneratedData>
{
    [Fact]
    public async Task Same_seed_gives_identical_rows_and_another_seed_different_rows()
    {
        using var againFolder = new TempDirectory();
        var again = againFolder.Path;
        using var otherFolder = new TempDirectory();
        var other = otherFolder.Path;
        await SyntheticGenerator.GenerateAsync(GeneratedData.SmallOptions(again), null, CancellationToken.None);
        await SyntheticGenerator.GenerateAsync(GeneratedData.SmallOptions(other, seed: 7), null, CancellationToken.None);

        foreach (var table in new[] { "events", "items", "follows", "ground_truth" })
        {
            var first = await ParquetRows.ReadTableAsync(Path.Combine(data.Directory, table));
            var second = await ParquetRows.ReadTableAsync(Path.Combine(again, table));
            Assert.Equal(first.Count, second.Count);
            for (var i = 0; i < first.Count; i++)
            {
                Assert.Equal(first[i], second[i]);
            }
        }

        // Stronger than equal rows: the files themselves are identical, so reruns do not churn a data lake.
        foreach (var file in data.Result.Files)
        {
            var twin = Path.Combine(again, Path.GetRelativePath(data.Directory, file));
            Assert.Equal(await File.ReadAllBytesAsync(file), await File.ReadAllBytesAsync(twin));
        }

        var otherEvents = await ParquetRows.ReadTableAsync(Path.Combine(other, "events"));
        var differing = data.Events.Zip(otherEvents).Count(pair => !pair.First.SequenceEqual(pair.Second));
        Assert.True(differing > data.Events.Count * 0.9, $"only {differing} of {data.Events.Count} event rows differ between seeds");
    }

    [Fact]
    public async Task Tables_have_the_contract_columns_and_the_requested_row_counts()
    {
        var options = data.Options;
        Assert.Equal(options.Events, data.Events.Count);
        Assert.Equal(options.Items, data.Items.Count);
        Assert.Equal(options.Users, data.GroundTruth.Count);
        Assert.Equal(data.Result.Follows, data.Follows.Count);
        Assert.Equal(new GeneratorResult(options.Events, options.Items, data.Follows.Count, options.Users, data.Result.Files), data.Result);
        Assert.All(data.Result.Files, file => Assert.True(File.Exists(file), file));

        Assert.Equal(["user_id", "item_id", "event_type", "event_time"], await ParquetRows.ColumnsAsync(data.Result.Files[0]));
        Assert.Equal(["item_id", "category", "creator_id"], await ParquetRows.ColumnsAsync(Path.Combine(data.Directory, "items", "part-00000.parquet")));
        Assert.Equal(["follower_id", "followee_id"], await ParquetRows.ColumnsAsync(Path.Combine(data.Directory, "follows", "part-00000.parquet")));
        Assert.Equal(["user_id", "community", "is_bot"], await ParquetRows.ColumnsAsync(Path.Combine(data.Directory, "ground_truth", "part-00000.parquet")));

        Assert.Equal("u000123", data.GroundTruth[123][0]);
        Assert.Equal("i000045", data.Items[45][0]);
        Assert.All(data.Items, item => Assert.Contains((string)item[2]!, data.Community.Keys));
        Assert.Equal(options.Bots, data.Bots.Count);
    }

    [Fact]
    public async Task Events_are_split_into_parts_of_at_most_EventsPerFile_rows()
    {
        using var directoryFolder = new TempDirectory();
        var directory = directoryFolder.Path;
        var options = GeneratedData.SmallOptions(directory) with { Events = 25_000, EventsPerFile = 10_000 };
        var result = await SyntheticGenerator.GenerateAsync(options, null, CancellationToken.None);

        var parts = Directory.GetFiles(Path.Combine(directory, "events")).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"], parts.Select(Path.GetFileName));
        Assert.Equal(parts, result.Files.Take(3));
        var counts = await Task.WhenAll(parts.Select(async p => (await ParquetRows.ReadAsync(p)).Count));
        Assert.Equal([10_000, 10_000, 5_000], counts);
    }

    [Fact]
    public void Follows_are_far_denser_inside_communities_than_across()
    {
        var within = data.Follows.Count(f => data.Community[(string)f[0]!] == data.Community[(string)f[1]!]);
        var across = data.Follows.Count - within;
        Assert.True(within >= 0.8 * data.Follows.Count, $"{within} of {data.Follows.Count} follows are within a community");

        // Density = follows / possible ordered pairs, inside vs across communities.
        var sizes = data.Community.Values.GroupBy(c => c).Select(g => (double)g.Count()).ToList();
        var users = (double)data.Community.Count;
        var pairsWithin = sizes.Sum(s => s * (s - 1));
        var pairsAcross = users * (users - 1) - pairsWithin;
        var ratio = (within / pairsWithin) / (across / pairsAcross);
        Assert.True(ratio >= 10, $"within/across follow density ratio is {ratio:F1}");

        Assert.Equal(data.Follows.Count, data.Follows.Select(f => ((string)f[0]!, (string)f[1]!)).Distinct().Count());
        Assert.DoesNotContain(data.Follows, f => f[0]!.Equals(f[1]));
    }

    [Fact]
    public void Event_types_follow_view_like_comment_share_rates()
    {
        var counts = data.Events.GroupBy(e => (string)e[2]!).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(["comment", "like", "share", "view"], counts.Keys.Order(StringComparer.Ordinal));
        Assert.True(counts["view"] > counts["like"] && counts["like"] > counts["comment"] && counts["comment"] > counts["share"],
            string.Join(", ", counts.Select(kv => $"{kv.Key}={kv.Value}")));
        Assert.InRange(counts["view"] / (double)data.Events.Count, 0.75, 0.85);
    }

    [Fact]
    public void Users_engage_mostly_with_their_communitys_categories()
    {
        var category = data.Items.ToDictionary(i => (string)i[0]!, i => (string)i[1]!);
        var byCommunity = data.Events
            .Where(e => !data.Bots.Contains((string)e[0]!))
            .GroupBy(e => data.Community[(string)e[0]!]);
        foreach (var community in byCommunity)
        {
            // A community prefers at most 3 of the 12 categories: uniform taste would put ~25% of events there.
            var top3 = community.GroupBy(e => category[(string)e[1]!]).Select(g => g.Count()).OrderDescending().Take(3).Sum();
            var share = top3 / (double)community.Count();
            Assert.True(share >= 0.8, $"community {community.Key}: top-3 categories hold only {share:P0} of its events");
        }
    }

    [Fact]
    public void Bots_have_far_more_events_than_the_median_user()
    {
        var perUser = data.Events.GroupBy(e => (string)e[0]!).ToDictionary(g => g.Key, g => g.Count());
        var normal = data.Community.Keys.Where(u => !data.Bots.Contains(u)).Select(u => perUser.GetValueOrDefault(u)).Order().ToList();
        var median = Math.Max(1, normal[normal.Count / 2]);
        Assert.All(data.Bots, bot => Assert.True(perUser[bot] >= 10 * median, $"{bot} has {perUser[bot]} events, median user {median}"));

        // Bots spread over the catalogue instead of following taste.
        Assert.All(data.Bots, bot => Assert.True(data.Events.Where(e => e[0]!.Equals(bot)).Select(e => e[1]).Distinct().Count() > data.Options.Items / 2));
    }

    [Fact]
    public void Event_times_fall_in_the_window_with_weekly_and_daily_rhythm()
    {
        var end = GeneratorOptions.DefaultEnd;
        var start = end.AddDays(-data.Options.Days);
        var times = data.Events.Select(e => (DateTime)e[3]!).ToList();
        Assert.All(times, t => Assert.InRange(t, start, end.AddTicks(-1)));
        Assert.All(times, t => Assert.Equal(DateTimeKind.Utc, t.Kind));

        // The window is whole weeks, so every weekday occurs equally often.
        double PerDay(Func<DayOfWeek, bool> which) => times.Count(t => which(t.DayOfWeek));
        var weekend = PerDay(d => d is DayOfWeek.Saturday or DayOfWeek.Sunday) / 2;
        var weekday = PerDay(d => d is not (DayOfWeek.Saturday or DayOfWeek.Sunday)) / 5;
        Assert.True(weekend > 1.15 * weekday, $"weekend {weekend:F0}/day vs weekday {weekday:F0}/day");

        var evening = times.Count(t => t.Hour is >= 19 and <= 22) / 4.0;
        var night = times.Count(t => t.Hour is >= 2 and <= 5) / 4.0;
        Assert.True(evening > 4 * night, $"evening {evening:F0}/hour vs night {night:F0}/hour");
    }

    [Fact]
    public void About_half_a_percent_of_events_are_exact_duplicates()
    {
        var distinct = data.Events.Select(e => (e[0], e[1], e[2], e[3])).Distinct().Count();
        var duplicates = data.Events.Count - distinct;
        Assert.InRange(duplicates / (double)data.Events.Count, 0.003, 0.008);
    }

    [Theory]
    [InlineData("Events")]
    [InlineData("Users")]
    [InlineData("Items")]
    [InlineData("Communities")]
    [InlineData("Categories")]
    [InlineData("Days")]
    [InlineData("Bots")]
    [InlineData("EventsPerFile")]
    [InlineData("OutputDirectory")]
    public async Task Bad_options_throw_a_configuration_error_naming_the_option(string option)
    {
        var good = new GeneratorOptions(Path.Combine(Path.GetTempPath(), "sparkreco-tests", "never-written"));
        var bad = option switch
        {
            "Events" => good with { Events = 0 },
            "Users" => good with { Users = 4, Communities = 8 },
            "Items" => good with { Items = 5 },
            "Communities" => good with { Communities = -1 },
            "Categories" => good with { Categories = 0 },
            "Days" => good with { Days = 0 },
            "Bots" => good with { Bots = 26 },
            "EventsPerFile" => good with { EventsPerFile = 0 },
            "OutputDirectory" => good with { OutputDirectory = " " },
            _ => throw new ArgumentOutOfRangeException(nameof(option)),
        };

        var error = await Assert.ThrowsAsync<ConfigurationException>(() => SyntheticGenerator.GenerateAsync(bad, null, CancellationToken.None));
        Assert.Contains(option, error.Message, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, error.ExitCode);
        Assert.False(Directory.Exists(good.OutputDirectory), "options are checked before anything is written");
    }

    [Fact]
    public async Task Progress_reports_events_written()
    {
        using var directoryFolder = new TempDirectory();
        var directory = directoryFolder.Path;
        var reports = new List<long>();
        var options = GeneratedData.SmallOptions(directory) with { Events = 3_000, EventsPerFile = 1_000 };
        await SyntheticGenerator.GenerateAsync(options, new SynchronousProgress(reports.Add), CancellationToken.None);
        Assert.Equal([1_000, 2_000, 3_000], reports);
    }

    /// <summary><see cref="Progress{T}"/> posts to the thread pool; this reports inline so the test sees every value.</summary>
    private sealed class SynchronousProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
