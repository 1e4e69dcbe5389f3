using Spark.Connect;
using SparkReco.Core.Errors;
using SparkReco.Engine.Spark;
using SparkReco.Publishing;
using SparkReco.Spark.Tests.Support;

namespace SparkReco.Spark.Tests;

/// <summary>Publishing to an object store through the (fake) Spark server: what is written, where, in which order and form.</summary>
public sealed class LakePublishingTests : IAsyncLifetime
{
    private const string Output = "s3a://lake/reco/";
    private const string RunId = "20261201T020304Z-0a1b2c3d";
    private static readonly string RunFolder = $"s3a://lake/reco/runs/{RunId}";
    private FakeSparkServer _server = null!;
    private readonly FakeLake _lake = new();
    private readonly List<WriteOperation> _writes = [];

    public async Task InitializeAsync()
    {
        _server = await FakeSparkServer.StartAsync();
        _lake.Attach(_server.Service);
        // Nothing is written on this machine: the server only records what it was asked to write.
        _server.Service.Write = _writes.Add;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<SparkConnectEngine> OpenAsync() =>
        SparkConnectEngine.OpenAsync(new SparkConnectOptions(SparkRemote.Parse(_server.Remote, "Engine:SparkRemote", _ => null)), CancellationToken.None);

    private static RunManifest Manifest(params string[] files) => new()
    {
        RunId = RunId,
        StartedAt = new DateTime(2026, 12, 1, 2, 3, 4, DateTimeKind.Utc),
        FinishedAt = new DateTime(2026, 12, 1, 2, 9, 0, DateTimeKind.Utc),
        AsOf = new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc),
        ConfigHash = "h",
        InputFingerprint = "f",
        Engine = "spark",
        Versions = new Dictionary<string, string>(),
        RowCounts = new Dictionary<string, long> { ["segments"] = 7 },
        Files = files,
        Stages = [],
        Facts = new Dictionary<string, object>(),
    };

    /// <summary>The one line a text write carries: its LocalRelation must hold exactly one row of one string column.</summary>
    private static string Content(WriteOperation write)
    {
        var row = Assert.Single(ArrowIpc.Rows(write.Input.LocalRelation.Data.Memory));
        return (string)Assert.Single(row, c => c.Key == "value").Value!;
    }

    [Fact]
    public async Task Run_files_manifest_success_and_the_pointer_are_written_through_spark_as_text_in_that_order()
    {
        await using var engine = await OpenAsync();
        var publisher = OutputPublishers.ForLake(SettingsTests.LoadFor(("Engine:Kind", "spark"), ("Output:Path", Output)), engine);
        var staging = publisher.CreateStaging(RunId);
        Assert.Equal(RunFolder, staging);
        Assert.Equal(RunFolder + "/segments", publisher.TableFolder(staging, "segments"));
        Assert.Empty(publisher.Recover());
        var files = publisher.FilesFolder(staging);
        Assert.False(files.Contains("://", StringComparison.Ordinal));
        await File.WriteAllTextAsync(Path.Combine(files, "report.html"), "<html>\n<p>ünï</p>\n</html>");

        // The manifest describes the table from what Spark reads back at the table folder.
        _lake.DataSets[RunFolder + "/segments"] = (FakeLake.Schema(("user_id", FakeLake.Text), ("segment", FakeLake.Int), ("distance", FakeLake.Double)),
            [new FakeLakeFile(RunFolder + "/segments/part-00000-x.zstd.parquet", 300, DateTime.UtcNow, 4), new FakeLakeFile(RunFolder + "/segments/part-00001-x.zstd.parquet", 200, DateTime.UtcNow, 3)]);
        var tables = await publisher.DescribeAsync(staging, ["segments"], CancellationToken.None);
        var segments = tables["segments"];
        Assert.Equal((7L, 500L), (segments.Rows, segments.Bytes));
        Assert.Equal(["user_id string", "segment int32", "distance double"], segments.Schema.Select(c => $"{c.Name} {c.Type}"));

        await publisher.PublishAsync(staging, Manifest("report.html") with { Tables = tables }, CancellationToken.None);

        Assert.Equal([RunFolder + "/report.html", RunFolder + "/manifest.json", RunFolder + "/_SUCCESS", "s3a://lake/reco/_LATEST"], _writes.Select(w => w.Path));
        Assert.All(_writes, w => Assert.Equal("text", w.Source));
        Assert.All(_writes, w => Assert.Equal("none", w.Options["compression"]));
        Assert.All(_writes, w => Assert.Empty(w.PartitioningColumns));
        Assert.Equal([WriteOperation.Types.SaveMode.Overwrite, WriteOperation.Types.SaveMode.Overwrite, WriteOperation.Types.SaveMode.Overwrite, WriteOperation.Types.SaveMode.Append], _writes.Select(w => w.Mode));
        Assert.Equal("<html>\n<p>ünï</p>\n</html>", Content(_writes[0]));
        var manifest = System.Text.Json.JsonSerializer.Deserialize<RunManifest>(Content(_writes[1]), RunManifest.Json)!;
        Assert.Equal(RunId, manifest.RunId);
        Assert.Equal(7, manifest.Tables!["segments"].Rows);
        Assert.Equal(RunId, Content(_writes[2]));
        Assert.Equal(RunId, Content(_writes[3]));
        // The local copies of the run files are gone once published.
        Assert.False(Directory.Exists(files));
    }

    [Fact]
    public async Task A_failed_write_is_a_publish_error_and_the_pointer_is_not_moved()
    {
        _server.Service.Write = write =>
        {
            _writes.Add(write);
            if (write.Path.EndsWith("/_SUCCESS", StringComparison.Ordinal))
                throw SparkErrorReply.Of("TASK_WRITE_FAILED", "58030", "[TASK_WRITE_FAILED] Task failed while writing rows to s3a://lake/reco/runs/…/_SUCCESS.");
        };
        await using var engine = await OpenAsync();
        var publisher = OutputPublishers.ForLake(SettingsTests.LoadFor(("Engine:Kind", "spark"), ("Output:Path", Output)), engine);
        var staging = publisher.CreateStaging(RunId);

        var error = await Assert.ThrowsAsync<PublishException>(() => publisher.PublishAsync(staging, Manifest(), CancellationToken.None));

        Assert.Equal(ExitCodes.Publish, error.ExitCode);
        Assert.Contains("'s3a://lake/reco' (setting 'Output:Path')", error.Message, StringComparison.Ordinal);
        Assert.Contains("TASK_WRITE_FAILED", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_writes, w => w.Path.EndsWith("/_LATEST", StringComparison.Ordinal));
        publisher.Discard(staging);
        Assert.False(Directory.Exists(publisher.FilesFolder(staging)));
    }

    [Fact]
    public async Task A_table_the_server_cannot_find_in_the_run_folder_is_a_publish_error()
    {
        await using var engine = await OpenAsync();
        var publisher = OutputPublishers.ForLake(SettingsTests.LoadFor(("Engine:Kind", "spark"), ("Output:Path", Output)), engine);
        var staging = publisher.CreateStaging(RunId);
        var error = await Assert.ThrowsAsync<PublishException>(() => publisher.DescribeAsync(staging, ["recommendations"], CancellationToken.None));
        Assert.Contains($"Table 'recommendations' is missing from the run folder '{RunFolder}'", error.Message, StringComparison.Ordinal);
        publisher.Discard(staging);
    }

    [Fact]
    public async Task A_text_write_larger_than_one_request_is_refused_before_sending()
    {
        await using var engine = await OpenAsync();
        var error = await Assert.ThrowsAsync<EngineException>(() => engine.WriteTextAsync(RunFolder + "/report.html", new string('x', 65 * 1024 * 1024), append: false, CancellationToken.None));
        Assert.Contains("report.html", error.Message, StringComparison.Ordinal);
        Assert.Empty(_writes);
    }

    private sealed class CountingInspector : SparkReco.Input.IInputInspector
    {
        public int Calls { get; private set; }

        public Task<SparkReco.Input.InputCatalog> InspectAsync(SparkReco.Core.Configuration.InputSettings settings, CancellationToken cancellationToken)
        {
            Calls++;
            throw new InvalidOperationException("inputs are not inspected in this test");
        }
    }

    [Fact]
    public async Task The_runner_refuses_an_object_store_output_on_duckdb_before_inspecting_inputs_or_opening_an_engine()
    {
        var settings = SettingsTests.LoadFor(("Input:Events", "events"), ("Output:Path", Output));
        var inspector = new CountingInspector();
        var engines = 0;
        var runner = new SparkReco.Jobs.Running.JobRunner(settings, (_, _) => { engines++; throw new InvalidOperationException("no engine in this test"); },
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, inputs: inspector);
        var error = await Assert.ThrowsAsync<ConfigurationException>(() => runner.RunAsync(CancellationToken.None));
        Assert.Contains("'Output:Path'", error.Message, StringComparison.Ordinal);
        Assert.Equal((0, 0), (inspector.Calls, engines));
    }
}
