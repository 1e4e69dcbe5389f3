using SparkReco.Core.Errors;
using SparkReco.Publishing;
using SparkReco.Tests.Support;
using static SparkReco.Tests.Support.TestParquet;

namespace SparkReco.Tests.Validation;

/// <summary>W1, W2, U3: the engine computes on exactly the files the input check read, whatever the folder holds or the path spells.</summary>
[Collection(CliCollection.Name)]
public sealed class CheckedFilesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Output => _dir.Combine("out");

    /// <summary>Events with distinct (user, item) pairs, so affinity has one row per event.</summary>
    private static List<TestEvent> Events(string prefix, int count) =>
        [.. Enumerable.Range(0, count).Select(i => new TestEvent($"{prefix}u{i}", $"i{i % 5}", "view", T0.AddHours(-i)))];

    private async Task<RunManifest> RunAsync(string events)
    {
        var run = await CliRunner.RunAsync("run", "--events", events, "--output", Output, "--set", "Segments:Enabled=false", "--set", "Scores:Enabled=false", "--set", "Recommend:Enabled=false");
        Assert.True(run.ExitCode == 0, run.Error);
        return RunManifest.Read(Path.Combine(Output, "manifest.json"))!;
    }

    [Fact]
    public async Task Temporary_and_hidden_parquet_files_are_neither_checked_nor_computed_on()
    {
        var events = _dir.Combine("events");
        Directory.CreateDirectory(Path.Combine(events, "_temporary", "0"));
        await WriteEventsAsync(Path.Combine(events, "part-00000.parquet"), Events("a", 10));
        // An unfinished Spark job's attempt and a hidden file: not part of the data set.
        await WriteEventsAsync(Path.Combine(events, "_temporary", "0", "part-00000.parquet"), Events("t", 40));
        await WriteEventsAsync(Path.Combine(events, ".part-00001.parquet"), Events("h", 80));

        var manifest = await RunAsync(events);
        Assert.Equal(10, manifest.RowCounts["affinity"]);
        Assert.Equal(10, manifest.Stages.Single(s => s.Stage == "validate_rows").Rows);
    }

    [Fact]
    public async Task Glob_characters_in_the_events_path_name_that_folder_only()
    {
        var events = _dir.Combine("ev[1]");
        await WriteEventsAsync(Path.Combine(events, "part-00000.parquet"), Events("a", 10));
        // The sibling a glob "ev[1]" would match instead.
        await WriteEventsAsync(Path.Combine(_dir.Combine("ev1"), "part-00000.parquet"), Events("b", 30));
        Assert.Equal(10, (await RunAsync(events)).RowCounts["affinity"]);

        var star = _dir.Combine("star*", "events.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(star)!);
        await WriteEventsAsync(star, Events("c", 7));
        await WriteEventsAsync(Path.Combine(_dir.Combine("starx"), "events.parquet"), Events("d", 50));
        Assert.Equal(7, (await RunAsync(star)).RowCounts["affinity"]);
    }

    [Fact]
    public async Task A_quote_in_the_events_path_is_read_not_an_engine_error()
    {
        var events = _dir.Combine("o'brien's events", "part-00000.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(events)!);
        await WriteEventsAsync(events, Events("a", 6));
        var validate = await CliRunner.RunAsync("validate", "--events", Path.GetDirectoryName(events)!);
        Assert.Equal(ExitCodes.Success, validate.ExitCode);
        Assert.Equal(6, (await RunAsync(Path.GetDirectoryName(events)!)).RowCounts["affinity"]);
    }
}
