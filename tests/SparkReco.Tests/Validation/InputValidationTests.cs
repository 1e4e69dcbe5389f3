using Parquet.Schema;
using SparkReco.Core.Errors;
using SparkReco.Tests.Support;
using static SparkReco.Tests.Support.TestParquet;

namespace SparkReco.Tests.Validation;

/// <summary>
/// Every contract violation fails before anything is written, with exit code 3 and a message that
/// names the file, the column, how many rows, and the fix.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class InputValidationTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string EventsPath => _dir.Combine("events.parquet");
    private string OutputPath => _dir.Combine("out");

    private static List<TestEvent> GoodEvents() =>
    [
        new("u1", "i1", "view", T0.AddDays(-1)),
        new("u2", "i2", "like", T0.AddDays(-2)),
    ];

    /// <summary>Runs both `validate` and `run`; both must fail the same way and `run` must write nothing.</summary>
    private async Task<string> AssertInputErrorAsync(params string[] extra)
    {
        string[] common = ["--events", EventsPath, "--output", OutputPath, .. extra];
        var validate = await CliRunner.RunAsync(["validate", .. common]);
        Assert.Equal(ExitCodes.InputData, validate.ExitCode);
        var run = await CliRunner.RunAsync(["run", .. common]);
        Assert.Equal(ExitCodes.InputData, run.ExitCode);
        Assert.Equal(ErrorMessage(validate.Error), ErrorMessage(run.Error));
        // Nothing written: no table folder, no manifest, no _SUCCESS, no staging left behind.
        var leftovers = Directory.Exists(OutputPath)
            ? Directory.EnumerateFileSystemEntries(OutputPath).Select(Path.GetFileName).Where(n => n is not ".sparkreco.lock").ToList()
            : [];
        Assert.Empty(leftovers);
        return run.Error;
    }

    /// <summary>The reported error, without the log lines before it.</summary>
    // validate and run start at different moments, so the run-start time some messages name may differ by a second.
    private static string ErrorMessage(string stderr) =>
        System.Text.RegularExpressions.Regex.Replace(stderr[stderr.IndexOf("error", StringComparison.Ordinal)..], @"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>");

    [Fact]
    public async Task Missing_path_names_the_setting_and_the_path()
    {
        var error = await AssertInputErrorAsync();
        Assert.Contains("events.parquet", error);
        Assert.Contains("does not exist", error);
        Assert.Contains("Input:Events", error);
    }

    [Fact]
    public async Task Missing_column_names_the_file_the_column_and_the_mapping_fix()
    {
        await WriteAsync(EventsPath, [
            (new DataField<string>("user"), new[] { "u1" }),
            (new DataField<string>("item_id"), new[] { "i1" }),
            (new DataField<string>("event_type"), new[] { "view" }),
            (new DataField<DateTime>("event_time"), new[] { T0 }),
        ]);
        var error = await AssertInputErrorAsync();
        Assert.Contains("events.parquet", error);
        Assert.Contains("no column 'user_id'", error);
        Assert.Contains("Input:Columns:UserId", error);
        Assert.Contains("Columns present: user, item_id", error);
    }

    [Fact]
    public async Task Mapped_column_names_are_used()
    {
        await WriteAsync(EventsPath, [
            (new DataField<string>("uid"), new[] { "u1" }),
            (new DataField<string>("item_id"), new[] { "i1" }),
            (new DataField<string>("event_type"), new[] { "view" }),
            (new DataField<DateTime>("event_time"), new[] { T0 }),
        ]);
        var run = await CliRunner.RunAsync("run", "--events", EventsPath, "--output", OutputPath, "--set", "Input:Columns:UserId=uid");
        Assert.True(run.ExitCode == 0, run.Error);
        var row = Assert.Single(await ReadAllAsync(Path.Combine(OutputPath, "affinity")));
        Assert.Equal("u1", row["user_id"]);
    }

    [Fact]
    public async Task Wrong_type_names_the_column_its_type_and_the_cast()
    {
        await WriteAsync(EventsPath, [
            (new DataField<string>("user_id"), new[] { "u1" }),
            (new DataField<string>("item_id"), new[] { "i1" }),
            (new DataField<string>("event_type"), new[] { "view" }),
            (new DataField<string>("event_time"), new[] { "2026-11-01" }),
        ]);
        var error = await AssertInputErrorAsync();
        Assert.Contains("column 'event_time' has type string", error);
        Assert.Contains("expected a timestamp", error);
        Assert.Contains("CAST(event_time AS TIMESTAMP)", error);
    }

    [Fact]
    public async Task Integer_ids_are_accepted_and_become_strings()
    {
        await WriteAsync(EventsPath, [
            (new DataField<long>("user_id"), new[] { 7L }),
            (new DataField<int>("item_id"), new[] { 42 }),
            (new DataField<string>("event_type"), new[] { "view" }),
            (new DataField<DateTime>("event_time"), new[] { T0 }),
        ]);
        var run = await CliRunner.RunAsync("run", "--events", EventsPath, "--output", OutputPath);
        Assert.True(run.ExitCode == 0, run.Error);
        var row = Assert.Single(await ReadAllAsync(Path.Combine(OutputPath, "affinity")));
        Assert.Equal("7", row["user_id"]);
        Assert.Equal("42", row["item_id"]);
    }

    [Fact]
    public async Task Nulls_in_key_columns_are_counted_per_column()
    {
        await WriteEventsAsync(EventsPath, [.. GoodEvents(), new(null, "i1", "view", T0), new(null, "i2", "view", T0), new("u3", null, "view", T0)]);
        var error = await AssertInputErrorAsync();
        Assert.Contains("column 'user_id': 2 rows have a null user id", error);
        Assert.Contains("column 'item_id': 1 rows have a null item id", error);
        Assert.Contains("Clean:InvalidRows", error);
    }

    [Fact]
    public async Task Unknown_event_types_are_listed_with_counts_and_the_fix()
    {
        await WriteEventsAsync(EventsPath, [.. GoodEvents(), new("u1", "i1", "click", T0), new("u1", "i2", "click", T0), new("u1", "i3", "bookmark", T0)]);
        var error = await AssertInputErrorAsync();
        Assert.Contains("column 'event_type': 3 rows have event types with no weight: 'click' (2), 'bookmark' (1)", error);
        Assert.Contains("Affinity:EventWeights", error);
        Assert.Contains("Clean:UnknownEventTypes", error);
    }

    [Fact]
    public async Task Unknown_event_types_can_be_dropped_and_counted()
    {
        await WriteEventsAsync(EventsPath, [.. GoodEvents(), new("u1", "i1", "click", T0.AddDays(-1))]);
        var run = await CliRunner.RunAsync("run", "--events", EventsPath, "--output", OutputPath, "--set", "Clean:UnknownEventTypes=drop");
        Assert.True(run.ExitCode == 0, run.Error);
        var manifest = await File.ReadAllTextAsync(Path.Combine(OutputPath, "manifest.json"));
        Assert.Contains("\"unknown_event_type\": 1", manifest);
        Assert.Equal(2, (await ReadAllAsync(Path.Combine(OutputPath, "affinity"))).Count);
    }

    [Fact]
    public async Task Timestamps_before_1990_and_in_the_future_are_reported()
    {
        var future = DateTime.UtcNow.AddDays(30);
        await WriteEventsAsync(EventsPath, [.. GoodEvents(), new("u1", "i1", "view", new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)), new("u1", "i1", "view", future)]);
        var error = await AssertInputErrorAsync();
        Assert.Contains("column 'event_time': 1 rows are dated before 1990-01-01", error);
        Assert.Contains("column 'event_time': 1 rows are dated after the run started", error);
    }

    [Fact]
    public async Task Empty_input_is_an_error()
    {
        await WriteEventsAsync(EventsPath, []);
        var error = await AssertInputErrorAsync();
        Assert.Contains("holds 0 rows", error);
    }

    [Fact]
    public async Task Corrupt_or_non_parquet_file_is_named()
    {
        await File.WriteAllTextAsync(EventsPath, "user_id,item_id\nu1,i1\n");
        var error = await AssertInputErrorAsync();
        Assert.Contains("events.parquet' is not a readable Parquet file", error);
    }

    [Fact]
    public async Task Folder_with_a_stray_file_and_a_corrupt_part_reports_both()
    {
        var folder = _dir.Combine("events");
        await WriteEventsAsync(Path.Combine(folder, "part-0.parquet"), GoodEvents());
        await File.WriteAllBytesAsync(Path.Combine(folder, "part-1.parquet"), [1, 2, 3, 4]);
        await File.WriteAllTextAsync(Path.Combine(folder, "notes.txt"), "hello");
        var run = await CliRunner.RunAsync("run", "--events", folder, "--output", OutputPath);
        Assert.Equal(ExitCodes.InputData, run.ExitCode);
        Assert.Contains("part-1.parquet' is not a readable Parquet file", run.Error);
        Assert.Contains("'notes.txt' in", run.Error);
    }

    [Fact]
    public async Task Folder_of_hive_partitions_is_read_as_one_table()
    {
        var folder = _dir.Combine("events");
        await WriteEventsAsync(Path.Combine(folder, "dt=2026-10-30", "part-0.parquet"), [new("u1", "i1", "view", T0.AddDays(-2))]);
        await WriteEventsAsync(Path.Combine(folder, "dt=2026-10-31", "part-0.parquet"), [new("u1", "i2", "like", T0.AddDays(-1)), new("u2", "i1", "view", T0.AddDays(-1))]);
        await File.WriteAllTextAsync(Path.Combine(folder, "_SUCCESS"), "");
        var run = await CliRunner.RunAsync("run", "--events", folder, "--output", OutputPath);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(3, (await ReadAllAsync(Path.Combine(OutputPath, "affinity"))).Count);
    }

    [Fact]
    public async Task A_failed_validation_leaves_the_previous_output_in_place()
    {
        await WriteEventsAsync(EventsPath, GoodEvents());
        Assert.Equal(0, (await CliRunner.RunAsync("run", "--events", EventsPath, "--output", OutputPath)).ExitCode);
        var before = await File.ReadAllTextAsync(Path.Combine(OutputPath, "manifest.json"));

        await WriteEventsAsync(EventsPath, [.. GoodEvents(), new(null, "i1", "view", T0)]);
        var run = await CliRunner.RunAsync("run", "--events", EventsPath, "--output", OutputPath);
        Assert.Equal(ExitCodes.InputData, run.ExitCode);
        Assert.Equal(before, await File.ReadAllTextAsync(Path.Combine(OutputPath, "manifest.json")));
        Assert.True(File.Exists(Path.Combine(OutputPath, "_SUCCESS")));
    }
}
