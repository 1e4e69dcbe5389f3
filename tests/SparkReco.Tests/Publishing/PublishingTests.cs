using SparkReco.Cli;
using SparkReco.Core.Engine;
using SparkReco.Core.Errors;
using SparkReco.Core.Stages;
using SparkReco.Generator;
using SparkReco.Jobs;
using SparkReco.Jobs.Running;
using SparkReco.Publishing;
using SparkReco.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using static SparkReco.Tests.Support.TestParquet;

namespace SparkReco.Tests.Publishing;

[Collection(CliCollection.Name)]
public sealed class PublishingTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Events => _dir.Combine("events.parquet");
    private string Output => _dir.Combine("out");

    private Task WriteEvents(int users) =>
        WriteEventsAsync(Events, Enumerable.Range(0, users).SelectMany(u => new TestEvent[]
        {
            new($"u{u}", $"i{u % 7}", "view", T0.AddHours(-u)),
            new($"u{u}", $"i{(u + 3) % 7}", "like", T0.AddHours(-2 * u)),
        }).ToList());

    /// <summary>Every file under the output with its bytes, except the run-specific manifest.</summary>
    private Dictionary<string, byte[]> Snapshot() =>
        Directory.EnumerateFiles(Output, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(Output, f), File.ReadAllBytes);

    [Fact]
    public async Task A_failure_mid_run_leaves_the_previous_output_unchanged()
    {
        await WriteEvents(20);
        Assert.Equal(0, (await CliRunner.RunAsync("run", "--events", Events, "--output", Output)).ExitCode);
        var before = Snapshot();

        await WriteEvents(30); // new input, so a published second run would change the tables
        var settings = SettingsLoader.Load(null, new Dictionary<string, string?> { ["Input:Events"] = Events, ["Output:Path"] = Output });
        var plan = JobPlan.Create([.. JobPlan.AllStages(), new FailingStage()]);
        var runner = new JobRunner(settings, Engines.Factory(NullLoggerFactory.Instance), NullLogger.Instance, plan: plan);
        var e = await Assert.ThrowsAsync<EngineException>(() => runner.RunAsync(CancellationToken.None));
        Assert.Equal("explode", e.Stage);

        Assert.Equal(before.Keys.Order(), Snapshot().Keys.Order());
        foreach (var (file, bytes) in before) Assert.Equal(bytes, Snapshot()[file]);
        Assert.DoesNotContain(Directory.EnumerateDirectories(Output), d => Path.GetFileName(d).StartsWith(".staging", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_publish_killed_half_way_is_rolled_back_by_the_next_run()
    {
        await WriteEvents(20);
        Assert.Equal(0, (await CliRunner.RunAsync("run", "--events", Events, "--output", Output)).ExitCode);
        var before = Snapshot();

        // Simulate a process killed after it set the old outputs aside and moved in a new table.
        var runId = "killed-run";
        var backup = Path.Combine(Output, ".previous-" + runId);
        Directory.CreateDirectory(backup);
        foreach (var entry in new[] { "_SUCCESS", "manifest.json", "affinity" })
        {
            var from = Path.Combine(Output, entry);
            if (Directory.Exists(from)) Directory.Move(from, Path.Combine(backup, entry));
            else File.Move(from, Path.Combine(backup, entry));
        }
        Directory.CreateDirectory(Path.Combine(Output, "affinity"));
        await File.WriteAllTextAsync(Path.Combine(Output, "affinity", "part-00000.parquet"), "half-written");
        await File.WriteAllTextAsync(Path.Combine(Output, ".publish-journal.json"),
            $$"""{"RunId":"{{runId}}","Moved":["_SUCCESS","manifest.json","affinity"],"Added":["affinity","manifest.json","_SUCCESS"]}""");

        var notes = new OutputPublisher(Output).Recover();

        Assert.Contains(notes, n => n.Contains("rolled back", StringComparison.Ordinal));
        var after = Snapshot();
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (file, bytes) in before) Assert.Equal(bytes, after[file]);
    }

    [Fact]
    public async Task A_concurrent_run_exits_5_with_a_lock_message()
    {
        await WriteEvents(5);
        using (OutputLock.Acquire(Output, "other-run"))
        {
            var run = await CliRunner.RunAsync("run", "--events", Events, "--output", Output);
            Assert.Equal(ExitCodes.Publish, run.ExitCode);
            Assert.Contains("is locked by a run that is still going (run other-run, pid", run.Error);
            Assert.False(File.Exists(Path.Combine(Output, "_SUCCESS")));
        }
        // Released: the next run goes ahead.
        Assert.Equal(0, (await CliRunner.RunAsync("run", "--events", Events, "--output", Output)).ExitCode);
    }

    [Fact]
    public async Task A_stale_lock_left_by_a_dead_run_is_taken_over()
    {
        await WriteEvents(5);
        Directory.CreateDirectory(Output);
        await File.WriteAllTextAsync(Path.Combine(Output, OutputLock.LockFileName), "");
        await File.WriteAllTextAsync(Path.Combine(Output, OutputLock.HolderFileName), "run dead, pid 999999");
        var run = await CliRunner.RunAsync("run", "--events", Events, "--output", Output);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("died without releasing its lock", run.Error);
    }

    [Fact]
    public async Task A_rerun_with_the_same_input_and_config_gives_identical_tables_whether_stages_overlap_or_not()
    {
        // Generated data with items and follows, so every stage (and its models) runs twice.
        var data = _dir.Combine("data");
        await SyntheticGenerator.GenerateAsync(new GeneratorOptions(data, Events: 30_000, Users: 300, Items: 200, Communities: 4, Categories: 6), null, CancellationToken.None);
        string[] run = ["run", "--events", Path.Combine(data, "events"), "--items", Path.Combine(data, "items"), "--follows", Path.Combine(data, "follows"), "--output", Output];
        Assert.Equal(0, (await CliRunner.RunAsync(run)).ExitCode);
        var first = Snapshot().Where(kv => kv.Key.EndsWith(".parquet", StringComparison.Ordinal)).ToList();
        // The first run overlaps independent stages (the default Engine:ConcurrentStages = 2), the second runs them one by one.
        Assert.Equal(0, (await CliRunner.RunAsync([.. run, "--set", "Engine:ConcurrentStages=1"])).ExitCode);
        var second = Snapshot();
        Assert.True(first.Count >= 7, $"only {first.Count} tables published");
        foreach (var (file, bytes) in first) Assert.True(bytes.AsSpan().SequenceEqual(second[file]), $"{file} differs between identical runs");
    }

    [Theory]
    [InlineData("snappy", "SNAPPY")]
    [InlineData("uncompressed", "UNCOMPRESSED")]
    public async Task Output_compression_sets_the_codec_of_every_published_file(string setting, string codec)
    {
        await WriteEvents(10);
        Assert.Equal(0, (await CliRunner.RunAsync("run", "--events", Events, "--output", Output, "--set", $"Output:Compression={setting}")).ExitCode);
        var files = Directory.EnumerateFiles(Output, "*.parquet", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(files);
        using var connection = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        connection.Open();
        foreach (var file in files)
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT string_agg(DISTINCT compression, ',') FROM parquet_metadata('{file.Replace("'", "''", StringComparison.Ordinal)}')";
            Assert.Equal(codec, command.ExecuteScalar()?.ToString());
        }
    }

    [Fact]
    public async Task Published_timestamps_are_utc_adjusted_microseconds_in_the_footer_and_keep_their_instant()
    {
        // DuckDB writes a TIMESTAMP column as a local date-time (isAdjustedToUTC=false); the inputs are UTC instants.
        await WriteEvents(10);
        Assert.Equal(0, (await CliRunner.RunAsync("run", "--events", Events, "--output", Output)).ExitCode);
        var timestamps = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Output, "*.parquet", SearchOption.AllDirectories))
        {
            await using var reader = await Parquet.ParquetReader.CreateAsync(file);
            foreach (var element in reader.Metadata!.Schema.Where(e => e.LogicalType?.TIMESTAMP is not null))
            {
                var relative = Path.GetRelativePath(Output, file);
                Assert.True(element.LogicalType!.TIMESTAMP!.IsAdjustedToUTC, $"{relative}: {element.Name} is not UTC-adjusted");
                Assert.True(element.LogicalType.TIMESTAMP.Unit.MICROS is not null, $"{relative}: {element.Name} is not in microseconds");
                timestamps.Add($"{relative}:{element.Name}");
            }
        }
        Assert.Contains(Path.Combine("affinity", "part-00000.parquet") + ":last_event_time", timestamps);

        // The instant is unchanged (user u0's only events are at T0 and T0 − 0 h), and the manifest still calls it a timestamp.
        var affinity = await ReadAllAsync(Path.Combine(Output, "affinity"));
        Assert.Equal(T0, affinity.Select(r => (DateTime)r["last_event_time"]!).Max());
        var manifest = RunManifest.Read(Path.Combine(Output, "manifest.json"))!;
        Assert.Contains(manifest.Tables!["affinity"].Schema, c => c.Name == "last_event_time" && c.Type == "timestamp");
    }

    [Fact]
    public async Task An_unknown_output_codec_is_a_setting_error_listing_the_codecs()
    {
        await WriteEvents(5);
        var run = await CliRunner.RunAsync("run", "--events", Events, "--output", Output, "--set", "Output:Compression=lzma");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Output:Compression", run.Error, StringComparison.Ordinal);
        Assert.Contains("zstd, snappy, gzip, uncompressed", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Manifest_has_run_facts_and_is_written_with_success_last()
    {
        await WriteEvents(10);
        Assert.Equal(0, (await CliRunner.RunAsync("run", "--events", Events, "--output", Output)).ExitCode);
        var manifest = RunManifest.Read(Path.Combine(Output, "manifest.json"))!;
        Assert.Equal(20, manifest.RowCounts["affinity"]);
        Assert.Equal(64, manifest.ConfigHash.Length);
        Assert.Equal(64, manifest.InputFingerprint.Length);
        Assert.Contains(manifest.Stages, s => s.Stage == "affinity");
        Assert.Equal("duckdb", manifest.Engine);
        Assert.StartsWith("DuckDB", manifest.Versions["engine"], StringComparison.Ordinal);
        Assert.True(File.GetLastWriteTimeUtc(Path.Combine(Output, "_SUCCESS")) >= File.GetLastWriteTimeUtc(Path.Combine(Output, "manifest.json")));
    }

    /// <summary>A stage that fails after the real ones ran: an engine error half-way through a run.</summary>
    private sealed class FailingStage : IStage
    {
        public string Name => "explode";
        public string Description => "fails on purpose";
        public IReadOnlyList<string> Inputs => ["affinity"];
        public bool IsOutput => true;
        public IReadOnlyList<string> OutputOrder => [];
        public IEnumerable<string> RenderSql(StageContext context) => ["SELECT 1"];
        public Task<long> RunAsync(IEngine engine, StageContext context, CancellationToken cancellationToken) =>
            engine.CreateTableAsync(Name, "SELECT * FROM no_such_table", cancellationToken);
    }
}
