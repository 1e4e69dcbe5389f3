using Parquet.Schema;
using SparkReco.Core.Errors;
using SparkReco.Tests.Support;
using static SparkReco.Tests.Support.TestParquet;

namespace SparkReco.Tests.Validation;

/// <summary>Issue 10: inputs and settings that used to publish wrong tables with exit 0 (W3, W4, W5), or failed late and unclearly (U1, U5).</summary>
[Collection(CliCollection.Name)]
public sealed class WrongOutputTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Output => _dir.Combine("out");

    private static List<TestEvent> Events(int count, string type = "view") =>
        [.. Enumerable.Range(0, count).Select(i => new TestEvent($"u{i}", $"i{i % 5}", type, T0.AddHours(-i)))];

    private static readonly string[] Lean = ["--set", "Segments:Enabled=false", "--set", "Scores:Enabled=false", "--set", "Recommend:Enabled=false"];

    private static async Task<CliRunner.Result> RunAsync(params string[] args) => await CliRunner.RunAsync([.. args, .. Lean]);

    private Dictionary<string, byte[]> Snapshot() =>
        Directory.EnumerateFiles(Output, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(Output, f), File.ReadAllBytes);

    [Fact]
    public async Task A_hive_partition_folder_that_collides_with_a_data_column_is_an_input_error()
    {
        var events = _dir.Combine("events");
        await WriteEventsAsync(Path.Combine(events, "event_type=like", "part-00000.parquet"), Events(10, "view"));
        var run = await RunAsync("run", "--events", events, "--output", Output);
        Assert.Equal(ExitCodes.InputData, run.ExitCode);
        Assert.Contains("Hive partition folder 'event_type=…' and also has a column 'event_type'", run.Error);
        Assert.Contains(Path.Combine("event_type=like", "part-00000.parquet"), run.Error);
        Assert.Contains("Rename the partition folder or the column", run.Error);
    }

    [Theory]
    [InlineData("1980-01-01T00:00:00Z", ExitCodes.InputData, "no usable event falls in the window ending at as_of 1980-01-01T00:00:00Z")]
    [InlineData("3000-01-01T00:00:00Z", ExitCodes.Usage, "setting 'Affinity:AsOf' (--as-of) is 3000-01-01T00:00:00Z, after the run started")]
    public async Task An_as_of_outside_the_data_fails_and_keeps_the_previous_output(string asOf, int exitCode, string message)
    {
        var events = _dir.Combine("events.parquet");
        await WriteEventsAsync(events, Events(10));
        Assert.Equal(0, (await RunAsync("run", "--events", events, "--output", Output)).ExitCode);
        var before = Snapshot();

        var run = await RunAsync("run", "--events", events, "--output", Output, "--as-of", asOf);
        Assert.True(run.ExitCode == exitCode, $"exit {run.ExitCode}: {run.Error}");
        Assert.Contains(message, run.Error);
        Assert.Contains("Affinity:AsOf", run.Error);
        var after = Snapshot();
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (file, bytes) in before) Assert.Equal(bytes, after[file]);
    }

    [Fact]
    public async Task String_and_integer_ids_in_different_part_files_are_reported()
    {
        var events = _dir.Combine("events");
        await WriteEventsAsync(Path.Combine(events, "part-00000.parquet"), [new("1", "i1", "view", T0), new("2", "i2", "view", T0)]);
        await WriteAsync(Path.Combine(events, "part-00001.parquet"), [
            (new DataField<long>("user_id"), new long[] { 1, 2 }),
            (new DataField<string>("item_id"), new[] { "i3", "i4" }),
            (new DataField<string>("event_type"), new[] { "view", "view" }),
            (new DataField<DateTime>("event_time"), new[] { T0, T0 }),
        ]);
        var run = await RunAsync("run", "--events", events, "--output", Output);
        Assert.Equal(ExitCodes.InputData, run.ExitCode);
        Assert.Contains("column 'user_id' is a string in", run.Error);
        Assert.Contains("part-00000.parquet' but an integer in", run.Error);
        Assert.Contains("part-00001.parquet", run.Error);
        Assert.False(File.Exists(Path.Combine(Output, "_SUCCESS")));
    }

    [Theory]
    [InlineData("fail", ExitCodes.InputData)]
    [InlineData("drop", ExitCodes.Success)]
    public async Task Infinite_weights_fail_the_row_checks_or_are_dropped(string policy, int exitCode)
    {
        var events = _dir.Combine("events.parquet");
        List<TestEvent> rows = [.. Events(6).Select(e => e with { Weight = 1.0 }), new("u9", "i9", "view", T0, double.PositiveInfinity)];
        await WriteEventsAsync(events, rows, withWeight: true);
        var run = await RunAsync("run", "--events", events, "--output", Output, "--set", "Clean:InvalidRows=" + policy);
        Assert.True(run.ExitCode == exitCode, $"exit {run.ExitCode}: {run.Error}");
        if (policy == "fail")
        {
            Assert.Contains("1 rows have a negative, NaN or infinite weight", run.Error);
            Assert.Contains("column 'weight'", run.Error);
        }
        else
        {
            Assert.Equal(6, SparkReco.Publishing.RunManifest.Read(Path.Combine(Output, "manifest.json"))!.RowCounts["affinity"]);
        }
    }

    [Theory]
    [InlineData("validate")]
    [InlineData("run")]
    public async Task An_output_folder_inside_the_input_folder_is_refused_before_any_work(string command)
    {
        var events = _dir.Combine("events");
        await WriteEventsAsync(Path.Combine(events, "part-00000.parquet"), Events(5));
        var inside = Path.Combine(events, "out");
        var run = await RunAsync(command, "--events", events, "--output", inside);
        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("setting 'Output:Path'", run.Error);
        Assert.Contains("overlaps the input of 'Input:Events'", run.Error);
        Assert.False(Directory.Exists(inside));
    }
}
