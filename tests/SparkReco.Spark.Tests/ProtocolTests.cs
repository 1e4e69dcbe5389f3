using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Spark.Connect;
using SparkReco.Core.Engine;
using SparkReco.Core.Errors;
using SparkReco.Core.Sql;
using SparkReco.Engine.Spark;
using SparkReco.Spark.Tests.Support;
using Status = Grpc.Core.Status;

namespace SparkReco.Spark.Tests;

/// <summary>The Spark Connect engine against an in-process server that speaks the same .proto files, scripted per test.</summary>
public sealed class ProtocolTests : IAsyncLifetime
{
    private static readonly SparkRetryPolicy Fast = new(3, TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(20));
    private FakeSparkServer _server = null!;
    private FakeSparkService Spark => _server.Service;

    public async Task InitializeAsync() => _server = await FakeSparkServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<SparkConnectEngine> OpenAsync(string? token = null, SparkRetryPolicy? retry = null, string parameters = "", long? chunkBytes = null, CancellationToken ct = default) =>
        SparkConnectEngine.OpenAsync(
            new SparkConnectOptions(SparkRemote.Parse(_server.Remote + parameters, "Engine:SparkRemote", name => name == SparkRemote.TokenVariable ? token : null))
            {
                Retry = retry ?? Fast,
                LocalRelationChunkBytes = chunkBytes ?? new SparkConnectOptions(SparkRemote.Parse(_server.Remote, "Engine:SparkRemote", _ => null)).LocalRelationChunkBytes,
            },
            ct);

    private static bool IsUuid(string text) => Guid.TryParseExact(text, "D", out _);

    [Fact]
    public async Task A_sql_command_round_trip_carries_session_operation_client_type_and_reattach_option_and_is_released()
    {
        await using var engine = await OpenAsync();
        await engine.ExecuteAsync("CREATE OR REPLACE TEMPORARY VIEW `v` AS SELECT 1 AS x", CancellationToken.None);

        var execute = Assert.Single(Spark.Requests<ExecutePlanRequest>());
        Assert.Equal("CREATE OR REPLACE TEMPORARY VIEW `v` AS SELECT 1 AS x", execute.Plan.Command.SqlCommand.Sql);
        Assert.True(IsUuid(execute.SessionId), execute.SessionId);
        Assert.Equal(engine.SessionId, execute.SessionId);
        Assert.True(IsUuid(execute.OperationId), execute.OperationId);
        Assert.StartsWith("SparkReco/", execute.ClientType, StringComparison.Ordinal);
        Assert.True(Assert.Single(execute.RequestOptions).ReattachOptions.Reattachable);
        Assert.False(string.IsNullOrEmpty(execute.UserContext.UserId));
        var release = Assert.Single(Spark.Requests<ReleaseExecuteRequest>());
        Assert.Equal(execute.OperationId, release.OperationId);
        Assert.Equal(ReleaseExecuteRequest.ReleaseOneofCase.ReleaseAll, release.ReleaseCase);
    }

    [Fact]
    public async Task The_session_settings_are_pinned_and_the_version_comes_from_analyze_plan()
    {
        Spark.SparkVersion = "3.5.3";
        await using var engine = await OpenAsync();
        Assert.Equal("Spark 3.5.3", engine.Version);
        Assert.Equal("UTC", Spark.Settings["spark.sql.session.timeZone"]);
        Assert.Equal("TIMESTAMP_MICROS", Spark.Settings["spark.sql.parquet.outputTimestampType"]);
        Assert.Equal("false", Spark.Settings["spark.sql.ansi.enabled"]);
        Assert.False(engine.IsInProcess);
        Assert.Equal("spark", engine.Dialect.Name);
    }

    [Fact]
    public async Task A_server_that_does_not_keep_a_pinned_setting_stops_the_engine_from_opening()
    {
        // A server with the time zone fixed by its administrator would shift every timestamp: refuse to run on it.
        Spark.Settings["spark.sql.session.timeZone"] = "America/New_York";
        Spark.FixedSettings.Add("spark.sql.session.timeZone");
        var error = await Assert.ThrowsAsync<EngineException>(() => OpenAsync());
        Assert.Contains("spark.sql.session.timeZone is 'America/New_York' after setting it to 'UTC'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_schema_of_a_query_comes_from_analyze_plan_without_running_it()
    {
        Spark.AnalyzeSchema = sql =>
        {
            Assert.Equal("SELECT user_id, score FROM `user_scores`", sql);
            var schema = new DataType { Struct = new DataType.Types.Struct() };
            schema.Struct.Fields.Add(new DataType.Types.StructField { Name = "user_id", DataType = new DataType { String = new() }, Nullable = true });
            schema.Struct.Fields.Add(new DataType.Types.StructField { Name = "score", DataType = new DataType { Double = new() }, Nullable = true });
            return schema;
        };
        await using var engine = await OpenAsync();
        var columns = await engine.SchemaAsync("SELECT user_id, score FROM `user_scores`", CancellationToken.None);
        Assert.Equal([("user_id", "String"), ("score", "Double")], columns);
        Assert.Empty(Spark.Requests<ExecutePlanRequest>());
    }

    [Fact]
    public async Task A_query_over_several_arrow_batches_returns_every_row_in_order_with_its_type()
    {
        var t1 = new DateTime(2026, 11, 1, 12, 30, 0, DateTimeKind.Utc);
        Spark.Query = _ =>
        [
            ArrowIpc.Stream(("n", ArrowIpc.Longs(1, 2)), ("score", ArrowIpc.Doubles(0.5, null)), ("name", ArrowIpc.Strings("a", "b")), ("t", ArrowIpc.Timestamps(t1, null))),
            ArrowIpc.Stream(("n", ArrowIpc.Longs(3)), ("score", ArrowIpc.Doubles(1.25)), ("name", ArrowIpc.Strings((string?)null)), ("t", ArrowIpc.Timestamps(t1.AddDays(1)))),
            ArrowIpc.Stream(("n", ArrowIpc.Longs(4, 5, 6)), ("score", ArrowIpc.Doubles(2, 3, 4)), ("name", ArrowIpc.Strings("d", "e", "f")), ("t", ArrowIpc.Timestamps(null, null, t1))),
        ];
        await using var engine = await OpenAsync();
        var rows = await engine.QueryAsync("SELECT n, score, name, t FROM `x`", CancellationToken.None);

        Assert.Equal("SELECT n, score, name, t FROM `x`", Assert.Single(Spark.Requests<ExecutePlanRequest>()).Plan.Root.Sql.Query);
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L], rows.Select(r => (long)r["n"]!));
        Assert.Null(rows[1]["score"]);
        Assert.Equal(1.25, rows[2]["score"]);
        Assert.Null(rows[2]["name"]);
        Assert.Equal("f", rows[5]["name"]);
        var time = Assert.IsType<DateTime>(rows[0]["t"]);
        Assert.Equal(t1, time);
        Assert.Equal(DateTimeKind.Utc, time.Kind);
        Assert.Equal(t1.AddDays(1), rows[2]["t"]);
    }

    [Fact]
    public async Task Bulk_reads_over_several_batches_are_typed_columns()
    {
        Spark.Query = _ =>
        [
            ArrowIpc.Stream(("id", ArrowIpc.Ints(1, 2)), ("big", ArrowIpc.Longs(10, 20)), ("w", ArrowIpc.Doubles(0.1, 0.2)), ("s", ArrowIpc.Strings("x", null))),
            ArrowIpc.Stream(("id", ArrowIpc.Ints(3)), ("big", ArrowIpc.Longs(30)), ("w", ArrowIpc.Doubles(0.3)), ("s", ArrowIpc.Strings("z"))),
        ];
        await using var engine = await OpenAsync();
        var table = await engine.ReadColumnsAsync("SELECT id, big, w, s FROM `x`", CancellationToken.None);
        Assert.Equal(3, table.RowCount);
        Assert.Equal([1, 2, 3], table.Ints("id").Take(3));
        Assert.Equal([10L, 20L, 30L], table.Longs("big").Take(3));
        Assert.Equal([0.1, 0.2, 0.3], table.Reals("w").Take(3));
        Assert.Equal(["x", null, "z"], table.Texts("s").Take(3));
    }

    [Fact]
    public async Task An_empty_result_is_an_empty_table_with_its_columns()
    {
        // Spark sends at least one batch even for no rows: a stream with the schema and a batch of length 0.
        Spark.Query = _ => [ArrowIpc.Stream(("id", ArrowIpc.Ints()), ("s", ArrowIpc.Strings()))];
        await using var engine = await OpenAsync();
        var rows = await engine.QueryAsync("SELECT id, s FROM `empty`", CancellationToken.None);
        var table = await engine.ReadColumnsAsync("SELECT id, s FROM `empty`", CancellationToken.None);
        Assert.Empty(rows);
        Assert.Equal(0, table.RowCount);
        Assert.Equal(["id", "s"], table.Columns.Select(c => c.Name));
        Assert.Equal(ColumnType.Int32Bit, table.Columns[0].Type);
    }

    [Fact]
    public async Task A_stream_that_ends_without_result_complete_is_reattached_from_the_last_response()
    {
        string? firstResponse = null;
        Spark.Execute = async (request, stream, _) =>
        {
            var first = new ExecutePlanResponse
            {
                SessionId = request.SessionId, OperationId = request.OperationId, ResponseId = Guid.NewGuid().ToString("D"),
                ArrowBatch = new ExecutePlanResponse.Types.ArrowBatch { RowCount = 2, Data = ByteString.CopyFrom(ArrowIpc.Stream(("n", ArrowIpc.Longs(1, 2)))) },
            };
            firstResponse = first.ResponseId;
            await stream.WriteAsync(first);
            // The server cuts the stream here (as Spark does after spark.connect.execute.reattachable.senderMaxStreamDuration).
        };
        Spark.Reattach = async (request, stream, _) =>
        {
            await stream.WriteAsync(new ExecutePlanResponse
            {
                SessionId = request.SessionId, OperationId = request.OperationId, ResponseId = Guid.NewGuid().ToString("D"),
                ArrowBatch = new ExecutePlanResponse.Types.ArrowBatch { RowCount = 1, Data = ByteString.CopyFrom(ArrowIpc.Stream(("n", ArrowIpc.Longs(3)))) },
            });
            await stream.WriteAsync(new ExecutePlanResponse { SessionId = request.SessionId, OperationId = request.OperationId, ResponseId = Guid.NewGuid().ToString("D"), ResultComplete = new() });
        };
        await using var engine = await OpenAsync();
        var rows = await engine.QueryAsync("SELECT n FROM `long_running`", CancellationToken.None);

        Assert.Equal([1L, 2L, 3L], rows.Select(r => (long)r["n"]!));
        var execute = Assert.Single(Spark.Requests<ExecutePlanRequest>());
        var reattach = Assert.Single(Spark.Requests<ReattachExecuteRequest>());
        Assert.Equal(execute.OperationId, reattach.OperationId);
        Assert.Equal(execute.SessionId, reattach.SessionId);
        Assert.Equal(firstResponse, reattach.LastResponseId);
        Assert.Equal(execute.OperationId, Assert.Single(Spark.Requests<ReleaseExecuteRequest>()).OperationId);
    }

    [Fact]
    public async Task A_connection_lost_in_the_middle_of_a_stream_is_resumed_by_reattaching_after_a_backoff()
    {
        string? firstResponse = null;
        Spark.Execute = async (request, stream, _) =>
        {
            var first = new ExecutePlanResponse
            {
                SessionId = request.SessionId, OperationId = request.OperationId, ResponseId = Guid.NewGuid().ToString("D"),
                ArrowBatch = new ExecutePlanResponse.Types.ArrowBatch { RowCount = 1, Data = ByteString.CopyFrom(ArrowIpc.Stream(("n", ArrowIpc.Longs(1)))) },
            };
            firstResponse = first.ResponseId;
            await stream.WriteAsync(first);
            throw new RpcException(new Status(StatusCode.Unavailable, "connection reset"));
        };
        Spark.Reattach = async (request, stream, _) =>
        {
            await stream.WriteAsync(new ExecutePlanResponse
            {
                SessionId = request.SessionId, OperationId = request.OperationId, ResponseId = Guid.NewGuid().ToString("D"),
                ArrowBatch = new ExecutePlanResponse.Types.ArrowBatch { RowCount = 1, Data = ByteString.CopyFrom(ArrowIpc.Stream(("n", ArrowIpc.Longs(2)))) },
            });
            await stream.WriteAsync(new ExecutePlanResponse { SessionId = request.SessionId, OperationId = request.OperationId, ResponseId = Guid.NewGuid().ToString("D"), ResultComplete = new() });
        };
        await using var engine = await OpenAsync();
        var rows = await engine.QueryAsync("SELECT n FROM `t`", CancellationToken.None);
        Assert.Equal([1L, 2L], rows.Select(r => (long)r["n"]!));
        Assert.Single(Spark.Requests<ExecutePlanRequest>()); // never re-submitted: the server already runs it
        Assert.Equal(firstResponse, Assert.Single(Spark.Requests<ReattachExecuteRequest>()).LastResponseId);
    }

    [Fact]
    public async Task A_result_with_a_schema_and_no_batch_is_an_empty_table_with_the_schema_columns()
    {
        Spark.Execute = async (request, stream, _) =>
        {
            var schema = new DataType { Struct = new DataType.Types.Struct() };
            schema.Struct.Fields.Add(new DataType.Types.StructField { Name = "user_ix", DataType = new DataType { Integer = new() }, Nullable = false });
            schema.Struct.Fields.Add(new DataType.Types.StructField { Name = "score", DataType = new DataType { Double = new() }, Nullable = true });
            await stream.WriteAsync(new ExecutePlanResponse { SessionId = request.SessionId, OperationId = request.OperationId, ResponseId = Guid.NewGuid().ToString("D"), Schema = schema });
            await stream.WriteAsync(new ExecutePlanResponse { SessionId = request.SessionId, OperationId = request.OperationId, ResponseId = Guid.NewGuid().ToString("D"), ResultComplete = new() });
        };
        await using var engine = await OpenAsync();
        var table = await engine.ReadColumnsAsync("SELECT user_ix, score FROM `none`", CancellationToken.None);
        Assert.Equal(0, table.RowCount);
        Assert.Equal([("user_ix", ColumnType.Int32Bit), ("score", ColumnType.Real)], table.Columns.Select(c => (c.Name, c.Type)));
    }

    [Fact]
    public async Task After_the_server_went_away_dispose_does_not_retry_clean_up_against_it()
    {
        await using (var engine = await OpenAsync())
        {
            Spark.Execute = (_, _, _) => throw new RpcException(new Status(StatusCode.Unavailable, "gone"));
            Spark.Query = _ => [ArrowIpc.Stream(("n", ArrowIpc.Longs(1)))];
            var error = await Assert.ThrowsAsync<EngineException>(() => engine.CreateTableAsync("affinity", "SELECT 1 AS x", CancellationToken.None));
            Assert.True(error.IsTransient);
        }
        Assert.Equal(3, Spark.Requests<ExecutePlanRequest>().Count()); // the bounded tries of the failing statement, nothing after
        Assert.Empty(Spark.Requests<ReleaseSessionRequest>());
    }

    private static RpcException SparkError(string errorClass, string sqlState, string message, string? errorId)
    {
        var info = new ErrorInfo { Reason = "org.apache.spark.sql.AnalysisException", Domain = "org.apache.spark" };
        info.Metadata.Add("classes", "[\"org.apache.spark.sql.AnalysisException\"]");
        info.Metadata.Add("errorClass", errorClass);
        info.Metadata.Add("sqlState", sqlState);
        info.Metadata.Add("messageParameters", "{\"objectName\":\"`usr_id`\"}");
        if (errorId is not null) info.Metadata.Add("errorId", errorId);
        var status = new Google.Rpc.Status { Code = (int)Code.Internal, Message = message };
        status.Details.Add(Any.Pack(info));
        return status.ToRpcException();
    }

    [Fact]
    public async Task An_error_with_error_info_becomes_a_readable_engine_exception_with_class_state_and_causes()
    {
        var errorId = Guid.NewGuid().ToString("D");
        Spark.Execute = (_, _, _) => throw SparkError("UNRESOLVED_COLUMN.WITH_SUGGESTION", "42703",
            "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column with name `usr_id` cannot be resolved. Did you mean `user_id`?", errorId);
        Spark.ErrorDetails = request =>
        {
            var details = new FetchErrorDetailsResponse { SessionId = request.SessionId, RootErrorIdx = 0 };
            var root = new FetchErrorDetailsResponse.Types.Error { Message = "column cannot be resolved", CauseIdx = 1 };
            root.ErrorTypeHierarchy.Add("org.apache.spark.sql.AnalysisException");
            details.Errors.Add(root);
            var cause = new FetchErrorDetailsResponse.Types.Error { Message = "while resolving the plan of view `affinity`" };
            cause.ErrorTypeHierarchy.Add("org.apache.spark.SparkException");
            details.Errors.Add(cause);
            return details;
        };
        await using var engine = await OpenAsync();
        var error = await Assert.ThrowsAsync<EngineException>(() => engine.ExecuteAsync("CREATE OR REPLACE TEMPORARY VIEW `a` AS SELECT usr_id FROM `events_source`", CancellationToken.None));

        Assert.Equal("UNRESOLVED_COLUMN.WITH_SUGGESTION", error.ErrorClass);
        Assert.Equal("42703", error.SqlState);
        Assert.False(error.IsTransient);
        Assert.Equal(ExitCodes.Engine, error.ExitCode);
        Assert.StartsWith("Spark [UNRESOLVED_COLUMN.WITH_SUGGESTION] (SQLSTATE 42703) while running CREATE OR REPLACE TEMPORARY VIEW `a` AS", error.Message, StringComparison.Ordinal);
        Assert.Contains("Did you mean `user_id`?", error.Message, StringComparison.Ordinal);
        Assert.Contains("caused by SparkException: while resolving the plan of view `affinity`", error.Message, StringComparison.Ordinal);
        Assert.Equal(errorId, Assert.Single(Spark.Requests<FetchErrorDetailsRequest>()).ErrorId);
        // A query error is not retried: it would fail the same way.
        Assert.Single(Spark.Requests<ExecutePlanRequest>());
    }

    [Fact]
    public async Task A_server_without_fetch_error_details_still_gives_class_and_state()
    {
        Spark.Execute = (_, _, _) => throw SparkError("DIVIDE_BY_ZERO", "22012", "[DIVIDE_BY_ZERO] Division by zero.", Guid.NewGuid().ToString("D"));
        await using var engine = await OpenAsync();
        var error = await Assert.ThrowsAsync<EngineException>(() => engine.QueryAsync("SELECT 1 / 0 AS x", CancellationToken.None));
        Assert.Equal("DIVIDE_BY_ZERO", error.ErrorClass);
        Assert.Contains("[DIVIDE_BY_ZERO] (SQLSTATE 22012)", error.Message, StringComparison.Ordinal);
        Assert.Single(Spark.Requests<FetchErrorDetailsRequest>());
    }

    [Fact]
    public async Task The_bearer_token_from_the_environment_is_sent_on_every_call()
    {
        // Plain text is allowed with a token only towards this machine (a tunnel or a local server), as here.
        await using (var engine = await OpenAsync(token: "s3cr3t-token", parameters: "/;use_ssl=false"))
            await engine.ExecuteAsync("SELECT 1", CancellationToken.None);
        Assert.NotEmpty(Spark.Calls);
        Assert.All(Spark.Calls, call => Assert.Equal("Bearer s3cr3t-token", call.Headers["authorization"]));
    }

    [Fact]
    public async Task Without_a_token_no_authorization_header_is_sent()
    {
        await using (var engine = await OpenAsync())
            await engine.ExecuteAsync("SELECT 1", CancellationToken.None);
        Assert.All(Spark.Calls, call => Assert.False(call.Headers.ContainsKey("authorization")));
    }

    [Fact]
    public async Task Driver_made_rows_travel_as_a_local_relation_whose_arrow_bytes_decode_to_the_rows_sent()
    {
        static async IAsyncEnumerable<ColumnTable> Blocks()
        {
            await Task.Yield();
            yield return new ColumnTable(2, [Column.Of("k", new[] { 0, 1 }), Column.Of("big", new[] { 5_000_000_000L, -1L }), Column.Of("w", new[] { 0.25, -1.5 }), Column.Of("label", new string?[] { "a'b", null })]);
            yield return new ColumnTable(1, [Column.Of("k", new[] { 2 }), Column.Of("big", new[] { 7L }), Column.Of("w", new[] { double.Epsilon }), Column.Of("label", new string?[] { "ünï" })]);
        }
        await using var engine = await OpenAsync();
        var rows = await engine.WriteTableAsync("segment_centroids", [("k", ColumnType.Int32Bit), ("big", ColumnType.Int64Bit), ("w", ColumnType.Real), ("label", ColumnType.Text)], Blocks(), sessionOnly: true, CancellationToken.None);

        Assert.Equal(3, rows);
        var view = Assert.Single(Spark.Requests<ExecutePlanRequest>()).Plan.Command.CreateDataframeView;
        Assert.Equal("segment_centroids", view.Name);
        Assert.True(view.Replace);
        Assert.False(view.IsGlobal);
        var sent = ArrowIpc.Rows(view.Input.LocalRelation.Data.Memory);
        Assert.Equal(3, sent.Count);
        Assert.Equal([0, 1, 2], sent.Select(r => (int)r["k"]!));
        Assert.Equal([5_000_000_000L, -1L, 7L], sent.Select(r => (long)r["big"]!));
        Assert.Equal([0.25, -1.5, double.Epsilon], sent.Select(r => (double)r["w"]!));
        Assert.Equal(["a'b", null, "ünï"], sent.Select(r => (string?)r["label"]));
        // The values travel as rows, never as SQL text.
        Assert.DoesNotContain(Spark.Requests<ExecutePlanRequest>(), r => r.Plan.Command?.SqlCommand?.Sql.Contains("a'b", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task A_driver_made_table_above_the_chunk_size_travels_as_several_local_relations_that_decode_back_to_exactly_the_rows_sent()
    {
        // 1,000 rows in blocks of 300 (chunks cut inside blocks too), a NULL every 7th label, one label far above the budget.
        const int Count = 1000;
        static string? Label(int i) => i % 7 == 0 ? null : i == 500 ? new string('x', 5000) : "item-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + "-ü";
        static async IAsyncEnumerable<ColumnTable> Blocks()
        {
            await Task.Yield();
            for (var start = 0; start < Count; start += 300)
            {
                var n = Math.Min(300, Count - start);
                var ids = Enumerable.Range(start, n).ToArray();
                yield return new ColumnTable(n, [Column.Of("k", ids), Column.Of("big", ids.Select(i => (long)i * 3_000_000_000L).ToArray()),
                    Column.Of("w", ids.Select(i => i / 3.0).ToArray()), Column.Of("label", ids.Select(Label).ToArray())]);
            }
        }
        const long Budget = 2048;
        await using (var engine = await OpenAsync(chunkBytes: Budget))
        {
            var rows = await engine.WriteTableAsync("user_keys", [("k", ColumnType.Int32Bit), ("big", ColumnType.Int64Bit), ("w", ColumnType.Real), ("label", ColumnType.Text)], Blocks(), sessionOnly: true, CancellationToken.None);
            Assert.Equal(Count, rows);
        }

        var requests = Spark.Requests<ExecutePlanRequest>().ToList();
        var views = requests.Where(r => r.Plan.Command?.CreateDataframeView is not null).Select(r => r.Plan.Command.CreateDataframeView).ToList();
        Assert.True(views.Count > 10, $"{views.Count} chunk(s)");
        Assert.Equal(Enumerable.Range(0, views.Count).Select(i => SparkConnectEngine.ChunkViewName("user_keys", i)), views.Select(v => v.Name));
        Assert.All(views, v => Assert.True(v.Replace && !v.IsGlobal));
        // Every chunk is a bounded request: at most the budget plus Arrow's framing, except the one that holds the oversized row alone.
        var decoded = views.Select(v => ArrowIpc.Rows(v.Input.LocalRelation.Data.Memory)).ToList();
        foreach (var (view, chunkRows) in views.Zip(decoded))
        {
            Assert.NotEmpty(chunkRows);
            if (chunkRows.Any(r => ((string?)r["label"])?.Length == 5000)) Assert.Single(chunkRows);
            else Assert.InRange(view.Input.LocalRelation.Data.Length, 1, Budget + 2048);
        }
        var sent = decoded.SelectMany(c => c).ToList();
        Assert.Equal(Enumerable.Range(0, Count), sent.Select(r => (int)r["k"]!));
        Assert.Equal(Enumerable.Range(0, Count).Select(i => (long)i * 3_000_000_000L), sent.Select(r => (long)r["big"]!));
        Assert.Equal(Enumerable.Range(0, Count).Select(i => i / 3.0), sent.Select(r => (double)r["w"]!));
        Assert.Equal(Enumerable.Range(0, Count).Select(Label), sent.Select(r => (string?)r["label"]));
        // The table is the union of its chunks in order, defined after the last chunk arrived; all are released at dispose.
        var sql = requests.Where(r => r.Plan.Command?.SqlCommand is not null).Select(r => r.Plan.Command.SqlCommand.Sql).ToList();
        Assert.Equal("CREATE OR REPLACE TEMPORARY VIEW `user_keys` AS\n" + string.Join("\nUNION ALL\n", views.Select(v => $"SELECT * FROM `{v.Name}`")), sql[0]);
        Assert.True(requests.IndexOf(requests.First(r => r.Plan.Command?.SqlCommand?.Sql == sql[0])) > requests.IndexOf(requests.Last(r => r.Plan.Command?.CreateDataframeView is not null)));
        Assert.Equal(["DROP VIEW IF EXISTS `user_keys`", .. views.AsEnumerable().Reverse().Select(v => $"DROP VIEW IF EXISTS `{v.Name}`")], sql.Skip(1));
    }

    [Fact]
    public async Task A_driver_made_table_within_the_chunk_size_is_one_local_relation_named_as_the_table()
    {
        static async IAsyncEnumerable<ColumnTable> Blocks()
        {
            await Task.Yield();
            yield return new ColumnTable(3, [Column.Of("k", new[] { 1, 2, 3 })]);
        }
        await using (var engine = await OpenAsync(chunkBytes: 12))
            await engine.WriteTableAsync("keys", [("k", ColumnType.Int32Bit)], Blocks(), sessionOnly: false, CancellationToken.None);
        var view = Assert.Single(Spark.Requests<ExecutePlanRequest>(), r => r.Plan.Command?.CreateDataframeView is not null).Plan.Command.CreateDataframeView;
        Assert.Equal("keys", view.Name);
        Assert.Equal([1, 2, 3], ArrowIpc.Rows(view.Input.LocalRelation.Data.Memory).Select(r => (int)r["k"]!));
    }

    [Fact]
    public async Task Parquet_outputs_are_written_with_a_write_operation()
    {
        await using var engine = await OpenAsync();
        var target = Path.Combine(Path.GetTempPath(), "sparkreco-write-" + Guid.NewGuid().ToString("N"), "recommendations");
        try
        {
            await engine.WriteParquetAsync("recommendations", target, ["user_id", "rank"], ["dt"], "zstd", CancellationToken.None);
        }
        finally
        {
            if (Directory.Exists(Path.GetDirectoryName(target))) Directory.Delete(Path.GetDirectoryName(target)!, recursive: true);
        }
        var write = Assert.Single(Spark.Requests<ExecutePlanRequest>()).Plan.Command.WriteOperation;
        Assert.Equal("parquet", write.Source);
        Assert.Equal(target, write.Path);
        Assert.Equal(WriteOperation.SaveTypeOneofCase.Path, write.SaveTypeCase);
        Assert.Equal(WriteOperation.Types.SaveMode.Overwrite, write.Mode);
        Assert.Equal(["dt"], write.PartitioningColumns);
        Assert.Empty(write.SortColumnNames); // only valid with bucketing; row order comes from the query
        Assert.Equal("zstd", write.Options["compression"]);
        Assert.Equal("SELECT * FROM `recommendations`\nORDER BY `user_id`, `rank`", write.Input.Sql.Query);
    }

    [Fact]
    public async Task Materialised_tables_are_cached_views_counted_and_released_at_dispose()
    {
        Spark.Query = sql => sql == "SELECT count(*) AS n FROM `affinity`" ? [ArrowIpc.Stream(("n", ArrowIpc.Longs(42)))] : throw new RpcException(new Status(StatusCode.Unimplemented, sql));
        long rows;
        await using (var engine = await OpenAsync())
        {
            rows = await engine.CreateTableAsync("affinity", "SELECT 1 AS x", CancellationToken.None);
            await engine.WriteTableAsync("pseudonym_key", [("inner_pad", ColumnType.Text)], One(), sessionOnly: true, CancellationToken.None);
        }
        Assert.Equal(42, rows);
        var statements = Spark.Requests<ExecutePlanRequest>().Select(r => r.Plan.Command?.SqlCommand?.Sql ?? r.Plan.Root?.Sql?.Query ?? "<" + r.Plan.Command?.CommandTypeCase + ">").ToList();
        Assert.Equal(
        [
            "CREATE OR REPLACE TEMPORARY VIEW `affinity` AS\nSELECT 1 AS x",
            "CACHE TABLE `affinity` OPTIONS ('storageLevel' 'MEMORY_AND_DISK')",
            "SELECT count(*) AS n FROM `affinity`",
            "<CreateDataframeView>",
            "DROP VIEW IF EXISTS `pseudonym_key`",
            "UNCACHE TABLE IF EXISTS `affinity`",
            "DROP VIEW IF EXISTS `affinity`",
        ], statements);
        Assert.Single(Spark.Requests<ReleaseSessionRequest>());

        static async IAsyncEnumerable<ColumnTable> One()
        {
            await Task.Yield();
            yield return new ColumnTable(1, [Column.Of("inner_pad", new string?[] { "00" })]);
        }
    }

    [Fact]
    public async Task Parameter_markers_are_refused_because_values_travel_as_rows()
    {
        await using var engine = await OpenAsync();
        var error = await Assert.ThrowsAsync<SqlFeatureNotSupportedException>(() =>
            engine.ExecuteAsync("SELECT :key", new Dictionary<string, string> { ["key"] = "secret" }, CancellationToken.None));
        Assert.Equal(SqlFeature.ParameterMarkers, error.Feature);
        Assert.Empty(Spark.Requests<ExecutePlanRequest>());
    }

    [Fact]
    public async Task A_server_still_starting_is_retried_within_the_bound()
    {
        Spark.UnavailableConfigCalls = 2;
        await using var engine = await OpenAsync(retry: new SparkRetryPolicy(3, TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(20)));
        Assert.Equal(4, Spark.Requests<ConfigRequest>().Count()); // two refused, the set that succeeded, the get
    }

    [Fact]
    public async Task A_server_that_stays_unavailable_fails_after_exactly_the_bounded_tries()
    {
        Spark.UnavailableConfigCalls = 100;
        var error = await Assert.ThrowsAsync<EngineException>(() => OpenAsync(retry: new SparkRetryPolicy(3, TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(20))));
        Assert.Equal(3, Spark.Requests<ConfigRequest>().Count());
        Assert.True(error.IsTransient);
        Assert.Contains("could not be reached after 3 tries", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_server_gives_a_clear_transient_error_after_bounded_retries()
    {
        // A port nobody listens on: bound, then released.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var options = new SparkConnectOptions(SparkRemote.Parse($"sc://127.0.0.1:{port}", "Engine:SparkRemote", _ => null))
        {
            Retry = new SparkRetryPolicy(3, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(40)),
        };
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<EngineException>(() => SparkConnectEngine.OpenAsync(options, CancellationToken.None));
        watch.Stop();
        Assert.True(error.IsTransient);
        Assert.Equal(ExitCodes.Engine, error.ExitCode);
        Assert.StartsWith("Spark Connect error while setting spark.sql.session.timeZone", error.Message, StringComparison.Ordinal);
        Assert.Contains($"sc://127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("could not be reached after 3 tries", error.Message, StringComparison.Ordinal);
        Assert.Contains("Engine:SparkRemote", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_a_running_statement_interrupts_its_operation_on_the_server()
    {
        var started = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        Spark.Execute = async (request, _, context) =>
        {
            if (request.Plan.OpTypeCase == Plan.OpTypeOneofCase.Root)
            {
                started.TrySetResult(request.OperationId);
                // A long query: it ends only when the client goes away.
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
            }
        };
        await using var engine = await OpenAsync();
        using var cancel = new CancellationTokenSource();
        var query = engine.QueryAsync("SELECT count(*) FROM `huge`", cancel.Token);
        var operationId = await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => query);

        var interrupt = Assert.Single(Spark.Requests<InterruptRequest>());
        Assert.Equal(InterruptRequest.Types.InterruptType.OperationId, interrupt.InterruptType);
        Assert.Equal(operationId, interrupt.OperationId);
        Assert.Equal(engine.SessionId, interrupt.SessionId);
    }
}
