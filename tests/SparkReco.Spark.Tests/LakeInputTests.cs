using Microsoft.Extensions.Logging.Abstractions;
using Spark.Connect;
using SparkReco.Cli;
using SparkReco.Core.Configuration;
using SparkReco.Core.Engine;
using SparkReco.Core.Errors;
using SparkReco.Engine.Spark;
using SparkReco.Input;
using SparkReco.Spark.Tests.Support;

namespace SparkReco.Spark.Tests;

/// <summary>Data-lake inputs on the Spark engine, checked through the (fake) Spark server: schema, contract messages, missing paths, files.</summary>
public sealed class LakeInputTests : IAsyncLifetime
{
    private const string Events = "s3a://lake/engagement/events";
    private static readonly DateTime Modified = new(2026, 11, 30, 4, 5, 6, DateTimeKind.Utc);
    private FakeSparkServer _server = null!;
    private readonly FakeLake _lake = new();

    public async Task InitializeAsync()
    {
        _server = await FakeSparkServer.StartAsync();
        _lake.Attach(_server.Service);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private JobSettings Settings(params (string Key, string Value)[] values) =>
        SettingsLoader.Load(null, new[] { ("Engine:Kind", "spark"), ("Engine:SparkRemote", _server.Remote), ("Input:Events", Events) }
            .Concat(values).GroupBy(v => v.Item1).ToDictionary(g => g.Key, g => (string?)g.Last().Item2));

    private int _opened;

    private IInputInspector Inspector(JobSettings settings) => InputInspectors.For(settings, async ct =>
    {
        _opened++;
        return await SparkConnectEngine.OpenAsync(new SparkConnectOptions(SparkRemote.Parse(settings.Engine.SparkRemote!, "Engine:SparkRemote", _ => null)), ct);
    });

    private void EventsOnLake(DataType schema, params FakeLakeFile[] files) => _lake.DataSets[Events] = (schema, files);

    [Fact]
    public async Task A_lake_input_is_checked_through_the_server_and_its_files_rows_and_bytes_come_from_spark()
    {
        EventsOnLake(FakeLake.Events(("dt", FakeLake.Text)),
            new FakeLakeFile(Events + "/dt=2026-11-29/part-00000.parquet", 1000, Modified, 40),
            new FakeLakeFile(Events + "/dt=2026-11-30/part-00000.parquet", 2500, Modified.AddHours(1), 60));
        var settings = Settings();

        var inspector = Inspector(settings);
        Assert.IsType<LakeInputInspector>(inspector);
        var catalog = await inspector.InspectAsync(settings.Input, CancellationToken.None);

        var events = catalog.Events;
        Assert.Equal(100, events.Rows);
        Assert.Equal(3500, events.Bytes);
        Assert.Equal(Events, events.Source.Path);
        Assert.Null(events.Source.Files); // Spark lists the path itself, as the source view reads it
        Assert.Equal([Events + "/dt=2026-11-29/part-00000.parquet", Events + "/dt=2026-11-30/part-00000.parquet"], events.Files);
        Assert.Equal([Modified, Modified.AddHours(1)], events.LakeFiles!.Select(f => f.ModifiedUtc));
        Assert.True(catalog.EventsHaveWeight(settings.Input.Columns));
        Assert.Null(catalog.Items);

        // The schema was asked with AnalyzePlan of a Read relation: parquet, the path, merged as the source view merges it.
        var analyze = Assert.Single(_server.Service.Requests<AnalyzePlanRequest>(), r => r.AnalyzeCase == AnalyzePlanRequest.AnalyzeOneofCase.Schema);
        var source = analyze.Schema.Plan.Root.Read.DataSource;
        Assert.Equal("parquet", source.Format);
        Assert.Equal([Events], source.Paths);
        Assert.Equal("true", source.Options["mergeSchema"]);
        Assert.Equal([Events], _lake.FileQueries);
        // One short session, released when the check ends.
        Assert.Equal(1, _opened);
        Assert.Single(_server.Service.Requests<ReleaseSessionRequest>());
    }

    [Fact]
    public async Task Contract_problems_on_the_lake_read_as_on_local_files_with_the_fix_and_no_file_listing()
    {
        EventsOnLake(FakeLake.Events(("user_id", null), ("User_Id", FakeLake.Long), ("event_time", FakeLake.Text), ("weight", FakeLake.Text)));
        var settings = Settings();

        var error = await Assert.ThrowsAsync<InputDataException>(() => Inspector(settings).InspectAsync(settings.Input, CancellationToken.None));

        Assert.Equal(ExitCodes.InputData, error.ExitCode);
        Assert.Equal(3, error.Problems.Count);
        Assert.Contains($"events: '{Events}' has no column 'user_id'; the file has 'User_Id': names are case-sensitive, set Input:Columns:UserId to \"User_Id\"", error.Message, StringComparison.Ordinal);
        Assert.Contains($"events: '{Events}' column 'event_time' has type string; expected a timestamp (Parquet TIMESTAMP, UTC). Cast it when exporting (e.g. CAST(event_time AS TIMESTAMP))", error.Message, StringComparison.Ordinal);
        Assert.Contains("column 'weight' has type string; expected a number", error.Message, StringComparison.Ordinal);
        Assert.Empty(_lake.FileQueries);
    }

    [Fact]
    public async Task Integer_ids_and_mapped_columns_are_accepted_on_the_lake()
    {
        _lake.DataSets[Events] = (FakeLake.Schema(("uid", FakeLake.Int), ("item_id", FakeLake.Long), ("event_type", FakeLake.Text), ("event_time", FakeLake.Timestamp)),
            [new FakeLakeFile(Events + "/part-0.parquet", 10, Modified, 1)]);
        var settings = Settings(("Input:Columns:UserId", "uid"));
        var catalog = await Inspector(settings).InspectAsync(settings.Input, CancellationToken.None);
        Assert.False(catalog.EventsHaveWeight(settings.Input.Columns));
        Assert.Equal(1, catalog.Events.Rows);
    }

    [Theory]
    [InlineData("PATH_NOT_FOUND")]
    [InlineData(null)] // a server that sends only the message
    public async Task A_lake_path_that_does_not_exist_is_an_input_error_naming_the_setting(string? errorClass)
    {
        const string Items = "abfss://lake@account.dfs.core.windows.net/items";
        EventsOnLake(FakeLake.Events(), new FakeLakeFile(Events + "/part-0.parquet", 10, Modified, 1));
        if (errorClass is null) _lake.Errors[Items] = SparkErrorReply.Of(null, "42K03", $"Path does not exist: {Items}");
        var settings = Settings(("Input:Items", Items));

        var error = await Assert.ThrowsAsync<InputDataException>(() => Inspector(settings).InspectAsync(settings.Input, CancellationToken.None));

        Assert.Equal(ExitCodes.InputData, error.ExitCode);
        var problem = Assert.Single(error.Problems);
        Assert.StartsWith($"items: path '{Items}' (setting 'Input:Items') does not exist for the Spark server (", problem, StringComparison.Ordinal);
        Assert.Contains("Path does not exist", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Part_files_whose_schemas_do_not_merge_and_an_empty_events_input_are_input_errors()
    {
        const string Follows = "gs://lake/follows";
        EventsOnLake(FakeLake.Events());
        _lake.Errors[Follows] = SparkErrorReply.Of("CANNOT_MERGE_INCOMPATIBLE_DATA_TYPE", "42825", "[CANNOT_MERGE_INCOMPATIBLE_DATA_TYPE] Failed to merge incompatible data types \"STRING\" and \"BIGINT\".");
        var settings = Settings(("Input:Follows", Follows));

        var error = await Assert.ThrowsAsync<InputDataException>(() => Inspector(settings).InspectAsync(settings.Input, CancellationToken.None));

        Assert.Equal(2, error.Problems.Count);
        Assert.Equal($"events: '{Events}' holds 0 rows; there is nothing to compute. Check that the export that writes it succeeded.", error.Problems[0]);
        Assert.StartsWith($"follows: the part files under '{Follows}' (setting 'Input:Follows') give a column different types (", error.Problems[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_spark_error_stays_an_engine_error()
    {
        _lake.Errors[Events] = SparkErrorReply.Of("INSUFFICIENT_PERMISSIONS", "42501", "[INSUFFICIENT_PERMISSIONS] Access denied.");
        var settings = Settings();
        var error = await Assert.ThrowsAsync<EngineException>(() => Inspector(settings).InspectAsync(settings.Input, CancellationToken.None));
        Assert.Equal("INSUFFICIENT_PERMISSIONS", error.ErrorClass);
    }

    [Fact]
    public async Task Local_inputs_beside_a_lake_input_are_checked_on_this_machine()
    {
        var missing = Path.Combine(Path.GetTempPath(), "sparkreco-no-such-" + Guid.NewGuid().ToString("N"), "items");
        EventsOnLake(FakeLake.Events(), new FakeLakeFile(Events + "/part-0.parquet", 10, Modified, 1));
        var settings = Settings(("Input:Items", missing));
        var error = await Assert.ThrowsAsync<InputDataException>(() => Inspector(settings).InspectAsync(settings.Input, CancellationToken.None));
        // The local check's message (no server was asked about this path).
        Assert.Contains($"items: path '{missing}'", Assert.Single(error.Problems), StringComparison.Ordinal);
        Assert.DoesNotContain(_server.Service.Requests<AnalyzePlanRequest>(), r => r.Schema?.Plan?.Root?.Read?.DataSource?.Paths.Contains(missing) == true);
    }

    [Theory]
    [InlineData("spark", Events, true, typeof(LakeInputInspector))]
    [InlineData("spark", "file:///data/events", true, typeof(LocalInputInspector))]
    [InlineData("spark", "/data/events", true, typeof(LocalInputInspector))]
    [InlineData("spark", Events, false, typeof(LocalInputInspector))] // plan: no server to ask, refused with exit 2
    [InlineData("duckdb", Events, true, typeof(LocalInputInspector))]
    public void The_lake_inspector_is_chosen_only_for_spark_with_a_lake_path_and_an_engine_to_open(string engine, string events, bool canOpen, Type expected)
    {
        var settings = Settings(("Engine:Kind", engine), ("Input:Events", events));
        var inspector = InputInspectors.For(settings, canOpen ? _ => Task.FromException<IEngine>(new InvalidOperationException("not opened in this test")) : null);
        Assert.IsType(expected, inspector);
    }

    [Fact]
    public async Task On_duckdb_a_lake_path_is_refused_before_any_engine_is_opened()
    {
        var settings = Settings(("Engine:Kind", "duckdb"));
        var error = await Assert.ThrowsAsync<ConfigurationException>(() => InputInspectors.For(settings, _ => throw new InvalidOperationException("no engine")).InspectAsync(settings.Input, CancellationToken.None));
        Assert.Equal(ExitCodes.Usage, error.ExitCode);
        Assert.Contains($"setting 'Input:Events' is '{Events}', a remote s3a:// path; the embedded engine (DuckDB) reads local files only", error.Message, StringComparison.Ordinal);
        Assert.Contains("Engine:Kind=spark", error.Message, StringComparison.Ordinal);
    }
}
