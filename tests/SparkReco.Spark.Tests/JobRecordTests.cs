using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using Spark.Connect;
using SparkReco.Cli;
using SparkReco.Core.Configuration;
using SparkReco.Engine.DuckDb;
using SparkReco.Engine.Spark;
using SparkReco.Generator;
using SparkReco.Jobs;
using SparkReco.Jobs.Running;
using SparkReco.Publishing;
using SparkReco.Spark.Tests.Support;
using Xunit.Abstractions;

namespace SparkReco.Spark.Tests;

/// <summary>
/// Record mode: the whole job (<c>run</c> with conf/local.json, as the CLI runs it with Engine:Kind=spark) against the
/// in-process server, which records every plan it receives. The server answers each query with what the DuckDB engine
/// answered to the same step of the same job on the same input (run first with Engine:Kernels=off, the SQL path Spark
/// runs), so the driver-side steps (samples, k-means and softmax fits, facts) get real, schema-correct rows; it never
/// computes anything itself. The test checks the plans, not results: every statement <c>plan --engine spark</c> prints
/// arrives, in DAG order, in the Spark dialect, and the run publishes through run folders.
/// </summary>
public sealed class JobRecordTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "sparkreco-record-" + Guid.NewGuid().ToString("N")[..10]);
    private FakeSparkServer _server = null!;

    private static string RepositoryRoot([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", ".."));

    public async Task InitializeAsync()
    {
        _server = await FakeSparkServer.StartAsync();
        // The fixed small input of the golden plan files (tests/SparkReco.Tests/Sql/PlanFixture): sample-data/ is made by
        // scripts/run-local.sh and not committed, so the test makes its own, seeded.
        await SyntheticGenerator.GenerateAsync(
            new GeneratorOptions(Path.Combine(_root, "data"), Events: 2_000, Users: 50, Items: 40, Communities: 4, Categories: 6, Seed: 42, Days: 28, Bots: 1),
            progress: null, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private JobSettings Settings(string engine, string output, string? inputs = null) => SettingsLoader.Load(Path.Combine(RepositoryRoot(), "conf", "local.json"), new Dictionary<string, string?>
    {
        ["Input:Events"] = inputs is null ? Path.Combine(_root, "data", "events") : inputs + "/events",
        ["Input:Items"] = inputs is null ? Path.Combine(_root, "data", "items") : inputs + "/items",
        ["Input:Follows"] = inputs is null ? Path.Combine(_root, "data", "follows") : inputs + "/follows",
        ["Output:Path"] = output.Contains("://", StringComparison.Ordinal) ? output : Path.Combine(_root, output),
        ["Affinity:AsOf"] = "2026-11-01T00:00:00Z",
        ["Engine:Kernels"] = "off",
        // EASE's weights are fitted on the driver from a columnar read and travel to the engine as a LocalRelation: the
        // whole-job record covers that path (and every stage of the plan runs).
        ["Recommend:ItemModel"] = "ease",
        ["Engine:Kind"] = engine,
        ["Engine:SparkRemote"] = _server.Remote,
    });

    /// <summary>SQL without comments, whitespace collapsed, and the run's start time (which differs between runs) masked.</summary>
    private static string Normalise(string sql)
    {
        var text = Regex.Replace(sql, @"--[^\n]*", "");
        text = Regex.Replace(text, @"TIMESTAMP '[0-9: .-]+'", "TIMESTAMP '<t>'");
        return Regex.Replace(text, @"\s+", " ").Trim().TrimEnd(';').Trim();
    }

    /// <summary>Stages whose SQL embeds what the driver learnt from the data (see step 4 of the test).</summary>
    private static readonly HashSet<string> SampleDependent = new(StringComparer.Ordinal) { "user_features", "segments", "segment_profiles", "segment_feature_means", "user_scores" };

    /// <summary>
    /// A statement's head: the view it defines, or for a query its first keyword and the tables it reads (the grouping
    /// and literals of those stages depend on the data, e.g. which small segments k-anonymity merges).
    /// </summary>
    private static string Head(string statement)
    {
        var view = Regex.Match(statement, @"^(CREATE OR REPLACE TEMPORARY VIEW `[^`]+`|CACHE TABLE `[^`]+`)");
        if (view.Success) return view.Value;
        var tables = Regex.Matches(statement, @"\b(?:FROM|JOIN) `([^`]+)`").Select(m => m.Groups[1].Value).Distinct().Order(StringComparer.Ordinal);
        return statement.Split(' ', 2)[0] + " … " + string.Join(", ", tables);
    }

    /// <summary>The plan cut into "sources" and one section per stage, each a list of normalised statements.</summary>
    private static List<(string Stage, List<string> Statements)> Sections(string plan)
    {
        // Every "-- ===== name: …" header opens a section (stages, and whatever else the plan prints, such as row checks).
        var parts = Regex.Split(plan, @"^-- ===== (?:stage )?", RegexOptions.Multiline);
        static List<string> Statements(string text) =>
            Regex.Replace(text, @"--[^\n]*", "").Split(";\n").Select(Normalise).Where(s => s.Length > 0).ToList();
        var sections = new List<(string, List<string>)> { ("sources", Statements(parts[0])) };
        foreach (var part in parts.Skip(1))
            sections.Add((part[..part.IndexOf(':', StringComparison.Ordinal)], Statements(part[(part.IndexOf('\n', StringComparison.Ordinal) + 1)..])));
        return sections;
    }

    [Fact]
    public async Task The_whole_job_sends_every_planned_statement_in_dag_order_in_the_spark_dialect()
    {
        // 1. The same job on DuckDB, recording what the engine answers.
        RecordingEngine? recording = null;
        var duck = Settings("duckdb", "out-duckdb");
        var duckResult = await new JobRunner(duck, async (settings, ct) => recording = new RecordingEngine(await DuckDbEngine.OpenAsync(settings, NullLogger.Instance, ct)), NullLogger.Instance)
            .RunAsync(CancellationToken.None);
        var answers = new Queue<EngineAnswer>(recording!.Answers);

        // 2. The job on the Spark engine, opened the way the CLI opens it, against the recording server.
        var replayed = new List<(string Sql, EngineAnswer Answer)>();
        _server.Service.Query = sql =>
        {
            Assert.True(answers.Count > 0, $"The Spark run sent more queries than the DuckDB run answered; the extra one: {sql}");
            var answer = answers.Dequeue();
            var isCount = Regex.IsMatch(sql, @"^SELECT count\(\*\) AS n FROM `[^`]+`$");
            Assert.True(isCount == answer is EngineAnswer.Count,
                $"The runs diverged: Spark asked '{sql}' where DuckDB answered {answer.GetType().Name} to '{answer.Sql}'.");
            replayed.Add((sql, answer));
            return AnswerArrow.Batches(answer);
        };
        // The server "writes" each table as Spark would, as Parquet part files: the DuckDB run's file of the same table,
        // since the manifest describes every published table from its files.
        _server.Service.Write = write =>
        {
            Directory.CreateDirectory(write.Path);
            foreach (var file in Directory.GetFiles(Path.Combine(duckResult.OutputDirectory, Path.GetFileName(write.Path)), "*.parquet"))
                File.Copy(file, Path.Combine(write.Path, Path.GetFileName(file)));
        };
        var spark = Settings("spark", "out-spark");
        var result = await new JobRunner(spark, Engines.Factory(NullLoggerFactory.Instance), NullLogger.Instance).RunAsync(CancellationToken.None);
        Assert.Empty(answers);

        // 3. What the server received, in order.
        var received = _server.Service.Requests<ExecutePlanRequest>().Select(r => r.Plan.OpTypeCase == Plan.OpTypeOneofCase.Root
            ? r.Plan.Root.Sql.Query
            : r.Plan.Command.CommandTypeCase switch
            {
                Command.CommandTypeOneofCase.SqlCommand => r.Plan.Command.SqlCommand.Sql,
                Command.CommandTypeOneofCase.WriteOperation => r.Plan.Command.WriteOperation.Input.Sql.Query,
                Command.CommandTypeOneofCase.CreateDataframeView => $"<LocalRelation view {r.Plan.Command.CreateDataframeView.Name}>",
                var other => $"<{other}>",
            }).ToList();
        var normalised = received.Select(Normalise).ToList();

        // 4. Every statement of `plan --engine spark` arrives, in the plan's (DAG) order. The plan is rendered before any
        // data is seen, so where a stage's SQL carries values found in the data (category names, standardisation of
        // the sample, the fitted model's weights, the driver-built profile rows) it shows stand-ins: those stages'
        // statements are matched by their head (the same view or query, in the same place), all others exactly.
        using var planText = new StringWriter { NewLine = "\n" };
        await PlanWriter.WriteAsync(spark, SparkDialect.Instance, DateTime.UtcNow, planText, CancellationToken.None);
        var sections = Sections(planText.ToString());
        var plannedCount = sections.Sum(s => s.Statements.Count);
        Assert.True(plannedCount > 100, $"the plan has only {plannedCount} statements");
        var at = 0;
        var missing = new List<string>();
        var byHead = new List<string>();
        var stageOrder = new List<(string Stage, int Index)>();
        foreach (var (stage, statements) in sections)
        {
            foreach (var statement in statements)
            {
                var found = normalised.IndexOf(statement, at);
                if (found < 0 && SampleDependent.Contains(stage))
                {
                    var head = Head(statement);
                    found = normalised.FindIndex(at, n => Head(n) == head);
                    if (found >= 0) byHead.Add($"{stage}: {head}");
                }
                if (found < 0) missing.Add($"{stage}: {(statement.Length > 160 ? statement[..160] + "…" : statement)}");
                else
                {
                    if (stageOrder.Count == 0 || stageOrder[^1].Stage != stage) stageOrder.Add((stage, found));
                    at = found + 1;
                }
            }
        }
        Assert.True(missing.Count == 0, $"{missing.Count} of {plannedCount} planned statements did not arrive in order:\n" + string.Join("\n", missing));
        var stageNames = JobPlan.Default().Stages.Select(st => st.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(JobPlan.Default().Stages.Select(st => st.Name), stageOrder.Select(s => s.Stage).Where(stageNames.Contains));
        output.WriteLine($"matched by head (values from the data): {byHead.Count}\n  " + string.Join("\n  ", byHead));

        // 5. Spark dialect throughout: nothing DuckDB-only reached the server.
        foreach (var sql in normalised)
        {
            Assert.DoesNotContain("read_parquet", sql, StringComparison.Ordinal);
            Assert.DoesNotContain("CREATE OR REPLACE TABLE", sql, StringComparison.Ordinal);
            Assert.DoesNotContain("struct_pack", sql, StringComparison.Ordinal);
            Assert.DoesNotContain("::", sql, StringComparison.Ordinal);
            Assert.DoesNotMatch(@"\bQUALIFY\b", sql);
            Assert.DoesNotMatch(@"AS VARCHAR\)", sql);
        }

        // 6. Every published table was written by a WriteOperation into this run's folder, then manifest, _SUCCESS and the pointer.
        var writes = _server.Service.Requests<ExecutePlanRequest>().Where(r => r.Plan.Command?.WriteOperation is not null).Select(r => r.Plan.Command.WriteOperation).ToList();
        var runFolder = Path.Combine(_root, "out-spark", RunFolderPublisher.RunsFolder, result.Manifest.RunId);
        Assert.Equal(duckResult.Manifest.RowCounts.Keys.Order(StringComparer.Ordinal), writes.Select(w => Path.GetRelativePath(runFolder, w.Path)).Order(StringComparer.Ordinal));
        Assert.All(writes, w => Assert.Equal("parquet", w.Source));
        Assert.Equal(result.Manifest.RunId, File.ReadAllText(Path.Combine(_root, "out-spark", RunFolderPublisher.LatestFileName)).Trim());
        Assert.True(File.Exists(Path.Combine(runFolder, "_SUCCESS")));
        var manifest = RunManifest.Read(Path.Combine(runFolder, "manifest.json"))!;
        Assert.Equal("spark", manifest.Engine);
        Assert.Equal("Spark 4.0.0", manifest.Versions["engine"]);

        // 7. The session's views and caches were released at the end.
        Assert.Contains(normalised, s => s.StartsWith("UNCACHE TABLE IF EXISTS", StringComparison.Ordinal));
        Assert.Single(_server.Service.Requests<ReleaseSessionRequest>());

        var extra = normalised.Count - plannedCount;
        output.WriteLine($"plan: {plannedCount} statements; received: {normalised.Count} ({extra} beyond the plan: counts, samples, facts, driver-made tables, writes, releases); queries replayed from DuckDB: {replayed.Count}");
    }

    [Fact]
    public async Task The_whole_job_reads_inputs_from_a_lake_and_publishes_to_an_object_store_through_the_server_only()
    {
        const string Lake = "s3a://lake/engagement";
        const string Output = "s3a://lake/reco";
        // 1. The same job on DuckDB, recording what the engine answers; the lake holds the same data (as the server sees it).
        RecordingEngine? recording = null;
        var duck = Settings("duckdb", "out-duckdb");
        var duckResult = await new JobRunner(duck, async (settings, ct) => recording = new RecordingEngine(await DuckDbEngine.OpenAsync(settings, NullLogger.Instance, ct)), NullLogger.Instance)
            .RunAsync(CancellationToken.None);
        var answers = new Queue<EngineAnswer>(recording!.Answers);
        _server.Service.Query = sql =>
        {
            Assert.True(answers.Count > 0, $"The Spark run sent more queries than the DuckDB run answered; the extra one: {sql}");
            return AnswerArrow.Batches(answers.Dequeue());
        };
        var lake = new FakeLake();
        var modified = new DateTime(2026, 11, 2, 3, 4, 5, DateTimeKind.Utc);
        foreach (var (name, input) in duckResult.Manifest.Inputs!)
        {
            DataType schema = name switch
            {
                "events" => FakeLake.Events(("weight", null)),
                "items" => FakeLake.Schema(("item_id", FakeLake.Text), ("category", FakeLake.Text), ("creator_id", FakeLake.Text)),
                _ => FakeLake.Schema(("follower_id", FakeLake.Text), ("followee_id", FakeLake.Text)),
            };
            lake.DataSets[$"{Lake}/{name}"] = (schema, [new FakeLakeFile($"{Lake}/{name}/part-00000.parquet", input.Bytes, modified, input.Rows)]);
        }
        // The server "writes" tables onto the lake (the DuckDB run's rows and schema) and records the text files.
        var texts = new List<WriteOperation>();
        var tableWrites = new List<string>();
        _server.Service.Write = write =>
        {
            if (write.Source == "text")
            {
                texts.Add(write);
                return;
            }
            var table = duckResult.Manifest.Tables![write.Path[(write.Path.LastIndexOf('/') + 1)..]];
            var columns = table.Schema.Select(c => (c.Name, c.Type switch
            {
                "string" => FakeLake.Text,
                "int64" => FakeLake.Long,
                "int32" => FakeLake.Int,
                "double" => FakeLake.Double,
                "timestamp" => FakeLake.Timestamp,
                var other => throw new InvalidOperationException($"no fake type for {other}"),
            })).ToArray();
            lake.DataSets[write.Path] = (FakeLake.Schema(columns), [new FakeLakeFile(write.Path + "/part-00000-c000.zstd.parquet", table.Bytes, modified, table.Rows)]);
            tableWrites.Add(write.Path);
        };
        lake.Attach(_server.Service);

        // 2. The job on the Spark engine with lake inputs and an object-store output, opened the way the CLI opens it.
        var result = await new JobRunner(Settings("spark", Output, Lake), Engines.Factory(NullLoggerFactory.Instance), NullLogger.Instance).RunAsync(CancellationToken.None);

        // 3. Every query was answered; the inputs were checked through the server (schema, then files), in a session of their own.
        Assert.Empty(answers);
        Assert.Equal(["events", "items", "follows"], lake.FileQueries.Take(3).Select(p => p[(Lake.Length + 1)..]));
        Assert.Equal(2, _server.Service.Requests<ReleaseSessionRequest>().Count());
        Assert.Contains(_server.Service.Requests<ExecutePlanRequest>(), r => r.Plan.Command?.SqlCommand?.Sql.Contains($"OPTIONS (path '{Lake}/events', mergeSchema 'true')", StringComparison.Ordinal) == true);

        // 4. Tables into the run folder on the store, then the run files, manifest, _SUCCESS and the pointer, all through the server.
        var runFolder = $"{Output}/runs/{result.Manifest.RunId}";
        Assert.Equal(Output, result.OutputDirectory);
        Assert.Equal(runFolder + "/report.html", result.ReportPath);
        Assert.Equal(duckResult.Manifest.RowCounts.Keys.Select(t => $"{runFolder}/{t}").Order(StringComparer.Ordinal), tableWrites.Order(StringComparer.Ordinal));
        Assert.Equal([.. result.Manifest.Files.Select(f => $"{runFolder}/{f}"), runFolder + "/manifest.json", runFolder + "/_SUCCESS", Output + "/_LATEST"], texts.Select(w => w.Path));
        Assert.Contains("report.html", result.Manifest.Files);
        Assert.Equal(WriteOperation.Types.SaveMode.Append, texts[^1].Mode);
        Assert.Equal(result.Manifest.RunId, (string)ArrowIpc.Rows(texts[^1].Input.LocalRelation.Data.Memory).Single()["value"]!);

        // 5. The manifest on the store: inputs as the lake listed them, tables as Spark read them back.
        var manifestText = (string)ArrowIpc.Rows(texts[^3].Input.LocalRelation.Data.Memory).Single()["value"]!;
        var manifest = System.Text.Json.JsonSerializer.Deserialize<RunManifest>(manifestText, RunManifest.Json)!;
        Assert.Equal(result.Manifest.RunId, manifest.RunId);
        Assert.Equal($"{Lake}/events", manifest.Inputs!["events"].Path);
        Assert.Equal(["part-00000.parquet"], manifest.Inputs["events"].Files);
        Assert.Equal(duckResult.Manifest.Inputs!["events"].Rows, manifest.Inputs["events"].Rows);
        Assert.Equal(duckResult.Manifest.RowCounts, manifest.RowCounts);
        Assert.Equal(duckResult.Manifest.Tables!.ToDictionary(t => t.Key, t => t.Value.Rows), manifest.Tables!.ToDictionary(t => t.Key, t => t.Value.Rows));
        Assert.Equal(duckResult.Manifest.Tables!["segments"].Schema, manifest.Tables!["segments"].Schema);
        Assert.Equal(64, manifest.InputFingerprint.Length);

        // 6. Nothing was written on this machine under the URL's name.
        Assert.False(Directory.Exists(Path.GetFullPath("s3a:")));
    }
}
