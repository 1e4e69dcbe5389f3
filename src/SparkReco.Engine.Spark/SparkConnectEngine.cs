using System.Diagnostics;
using Apache.Arrow;
using Microsoft.Extensions.Logging;
using Spark.Connect;
using SparkReco.Core.Engine;
using SparkReco.Core.Errors;
using SparkReco.Core.Sql;
using SparkReco.Engine.Spark.Connect;

namespace SparkReco.Engine.Spark;

/// <summary>
/// The cluster engine: every statement runs on a Spark server reached through Spark Connect (Spark 3.5 and 4.x). The
/// driver sends SQL text in the Spark dialect, collects small results as Arrow, registers driver-made rows as
/// LocalRelation temporary views and writes outputs with WriteOperation. Intermediate tables are temporary views plus
/// CACHE TABLE (<see cref="SparkDialect.Materialize"/>), released when the engine is disposed.
/// </summary>
/// <remarks>
/// Session settings pinned at start, whatever the server's defaults:
/// <list type="bullet">
/// <item><c>spark.sql.session.timeZone=UTC</c>: as_of, windows and timestamps are UTC instants, as on DuckDB.</item>
/// <item><c>spark.sql.parquet.outputTimestampType=TIMESTAMP_MICROS</c>: the default INT96 is deprecated and loses the type.</item>
/// <item><c>spark.sql.ansi.enabled=false</c>: Spark 3.5's default, while 4.0 turned it on. Pinning it gives one semantics
/// on both versions, and it is the one the dialect was written for: integer division and casts give NULL as on DuckDB,
/// and where a silent NULL would be wrong (an exact sum that overflows DECIMAL(38, 18)) the dialect's SQL checks and raises
/// itself (<see cref="SparkDialect.ExactSum"/>). Override with <see cref="SparkConnectOptions.AnsiMode"/>.</item>
/// </list>
/// </remarks>
public sealed class SparkConnectEngine : IEngine, ILakeFiles
{
    /// <summary>Spark Connect's default inbound limit is 128 MB; one LocalRelation (a chunk) larger than this is refused before sending.</summary>
    private const int MaxLocalRelationBytes = 64 * 1024 * 1024;

    private readonly SparkConnectClient _client;
    private readonly ILogger _logger;
    private readonly long _chunkBytes;
    // Views this session created, in order, so dispose releases them (caches first). Insertion order is kept.
    private readonly List<(string Name, bool Cached)> _views = [];

    private SparkConnectEngine(SparkConnectClient client, string version, ILogger logger, long chunkBytes)
    {
        _client = client;
        _chunkBytes = chunkBytes;
        Version = version;
        _logger = logger;
    }

    public string Name => "spark";
    public string Version { get; }
    public ISqlDialect Dialect => SparkDialect.Instance;
    public bool IsInProcess => false;

    /// <summary>The server-side session this engine runs in (a UUID).</summary>
    public string SessionId => _client.SessionId;

    /// <summary>Connects, pins the session settings (and reads them back), and asks the server for its version.</summary>
    public static async Task<SparkConnectEngine> OpenAsync(SparkConnectOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.LocalRelationChunkBytes is <= 0 or > MaxLocalRelationBytes)
            throw new ArgumentOutOfRangeException(nameof(options), options.LocalRelationChunkBytes, $"LocalRelationChunkBytes must be between 1 and {MaxLocalRelationBytes}.");
        var client = new SparkConnectClient(options.Remote, options.Retry, options.Logger);
        try
        {
            var pinned = new List<KeyValuePair<string, string>>
            {
                new("spark.sql.session.timeZone", "UTC"),
                new("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS"),
                new("spark.sql.ansi.enabled", options.AnsiMode ? "true" : "false"),
            };
            await client.SetConfigAsync(pinned, ct);
            var actual = await client.GetConfigAsync(pinned.Select(p => p.Key).ToList(), ct);
            foreach (var (key, value) in pinned)
            {
                if (!actual.TryGetValue(key, out var got) || !string.Equals(got, value, StringComparison.OrdinalIgnoreCase))
                    throw new EngineException(
                        $"Spark Connect at {options.Remote}: the session setting {key} is '{got ?? "(unset)"}' after setting it to '{value}'. " +
                        "SparkReco needs it for identical results across engines; allow clients to set it on the server (or set it there).");
            }
            var version = await client.AnalyzeAsync(new AnalyzePlanRequest { SparkVersion = new AnalyzePlanRequest.Types.SparkVersion() }, "reading the Spark version", ct);
            var engine = new SparkConnectEngine(client, "Spark " + version.SparkVersion.Version, options.Logger, options.LocalRelationChunkBytes);
            options.Logger.LogInformation("Spark Connect session {Session} on {Remote}: {Version}", client.SessionId, options.Remote, engine.Version);
            return engine;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sql);
        await RunAsync(sql, new Plan { Command = new Command { SqlCommand = new SqlCommand { Sql = sql } } }, cancellationToken);
    }

    /// <summary>
    /// Refused: Spark rejects parameter markers in view bodies and CACHE TABLE, which is every statement this engine
    /// materialises, so secrets and driver values travel as session-only rows (<see cref="WriteTableAsync(string, IReadOnlyList{ValueTuple{string, ColumnType}}, IAsyncEnumerable{ColumnTable}, bool, CancellationToken)"/>).
    /// </summary>
    public Task ExecuteAsync(string sql, IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken)
    {
        Dialect.Require(SqlFeature.ParameterMarkers, "a statement with bound parameters; register the values as a session-only table instead");
        // Reached only if the dialect ever claims markers: binding them (SqlCommand args) is not built, so never run unbound.
        throw new NotSupportedException("The Spark engine does not bind parameters; register the values as a session-only table.");
    }

    public async Task<long> CreateTableAsync(string table, string selectSql, CancellationToken cancellationToken)
    {
        foreach (var statement in SparkDialect.Instance.Materialize(table, selectSql)) await ExecuteAsync(statement, cancellationToken);
        Remember(table, cached: true);
        var rows = await QueryAsync($"SELECT count(*) AS n FROM {Dialect.Quote(table)}", cancellationToken);
        return Convert.ToInt64(rows[0]["n"], System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> QueryAsync(string sql, CancellationToken cancellationToken)
    {
        var responses = await RunAsync(sql, Root(sql), cancellationToken);
        return ArrowConversion.ToRows(Batches(responses));
    }

    public async Task<ColumnTable> ReadColumnsAsync(string sql, CancellationToken cancellationToken)
    {
        var responses = await RunAsync(sql, Root(sql), cancellationToken);
        var batches = Batches(responses).ToList();
        try
        {
            var schema = responses.FirstOrDefault(r => r.Schema is not null)?.Schema;
            return ArrowConversion.ToColumns(batches, schema is null ? null : SchemaOf(schema));
        }
        finally
        {
            foreach (var batch in batches) batch.Dispose();
        }
    }

    public Task<long> WriteTableAsync(string table, IReadOnlyList<(string Name, ColumnType Type)> schema, IAsyncEnumerable<ColumnTable> blocks, CancellationToken cancellationToken) =>
        WriteTableAsync(table, schema, blocks, sessionOnly: false, cancellationToken);

    /// <summary>
    /// The rows travel as Arrow IPC in a LocalRelation, registered as a temporary view: they live in the session's plan on
    /// the server and are never written to storage, whatever <paramref name="sessionOnly"/> says (so the view is never
    /// cached either: a cache could spill to executor disks). A table above <see cref="SparkConnectOptions.LocalRelationChunkBytes"/>
    /// is sent in chunks, each its own LocalRelation view (<c>&lt;table&gt;__chunk_0000</c>, …) in its own request, and
    /// <paramref name="table"/> becomes the view <c>UNION ALL</c> of them in row order: one request of many chunks would
    /// still meet the server's inbound message limit, while views and UNION ALL work alike on Spark 3.5 and 4.x.
    /// </summary>
    public async Task<long> WriteTableAsync(string table, IReadOnlyList<(string Name, ColumnType Type)> schema, IAsyncEnumerable<ColumnTable> blocks, bool sessionOnly, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var (chunks, rows) = await ArrowConversion.WriteChunksAsync(schema, blocks, _chunkBytes, cancellationToken);
        var shape = string.Join(", ", schema.Select(c => $"{c.Name} {c.Type}"));
        if (chunks.Count == 1)
        {
            await CreateLocalViewAsync(table, chunks[0], $"-- {table}: {rows} driver-made row(s) as a LocalRelation view ({shape})", cancellationToken);
            return rows;
        }
        var names = new List<string>(chunks.Count);
        for (var i = 0; i < chunks.Count; i++)
        {
            var name = ChunkViewName(table, i);
            await CreateLocalViewAsync(name, chunks[i], $"-- {table}: chunk {i + 1} of {chunks.Count} of {rows} driver-made row(s) as a LocalRelation view ({shape})", cancellationToken);
            names.Add(name);
        }
        await ExecuteAsync(Dialect.CreateView(table, string.Join("\nUNION ALL\n", names.Select(n => "SELECT * FROM " + Dialect.Quote(n)))), cancellationToken);
        Remember(table, cached: false);
        return rows;
    }

    /// <summary>The view that holds chunk <paramref name="index"/> of a driver-made table sent in chunks.</summary>
    public static string ChunkViewName(string table, int index) => $"{table}__chunk_{index:D4}";

    private async Task CreateLocalViewAsync(string name, byte[] data, string description, CancellationToken cancellationToken)
    {
        if (data.Length > MaxLocalRelationBytes)
            throw new EngineException($"Spark Connect: a row of the driver-made table '{name}' makes a LocalRelation of {data.Length / (1024 * 1024)} MB as Arrow, above the {MaxLocalRelationBytes / (1024 * 1024)} MB one request may carry; such values belong in the engine's SQL, not on the driver.");
        var plan = new Plan
        {
            Command = new Command
            {
                CreateDataframeView = new CreateDataFrameViewCommand
                {
                    Input = new Relation { LocalRelation = new LocalRelation { Data = Google.Protobuf.ByteString.CopyFrom(data) } },
                    Name = name,
                    IsGlobal = false,
                    Replace = true,
                },
            },
        };
        // The rows themselves never reach a log: only the table's name and shape do.
        await RunAsync(description, plan, cancellationToken);
        Remember(name, cached: false);
    }

    /// <summary>
    /// WriteOperation: Parquet (<paramref name="compression"/>) at <paramref name="directory"/>, replacing what is there; rows in
    /// <paramref name="orderBy"/> order across the part files in name order. Spark writes several part files and its own
    /// <c>_SUCCESS</c>; the path is read by the executors, so it must be one they share (a data lake, or a local folder
    /// when the server runs on this machine).
    /// </summary>
    public Task WriteParquetAsync(string table, string directory, IReadOnlyList<string> orderBy, string compression, CancellationToken cancellationToken) =>
        WriteParquetAsync(table, directory, orderBy, [], compression, cancellationToken);

    /// <summary><see cref="WriteParquetAsync(string, string, IReadOnlyList{string}, string, CancellationToken)"/> with Hive-style partition columns.</summary>
    public async Task WriteParquetAsync(string table, string directory, IReadOnlyList<string> orderBy, IReadOnlyList<string> partitionBy, string compression, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(orderBy);
        ArgumentNullException.ThrowIfNull(partitionBy);
        var order = orderBy.Count == 0 ? "" : "\nORDER BY " + string.Join(", ", orderBy.Select(Dialect.Quote));
        var query = $"SELECT * FROM {Dialect.Quote(table)}{order}";
        var write = new WriteOperation
        {
            Input = new Relation { Sql = new SQL { Query = query } },
            Source = "parquet",
            Path = directory,
            Mode = WriteOperation.Types.SaveMode.Overwrite,
        };
        write.PartitioningColumns.AddRange(partitionBy);
        if (!Core.Configuration.OutputSettings.Codecs.Contains(compression)) throw new ArgumentOutOfRangeException(nameof(compression), compression, "Not a Parquet codec this engine writes.");
        write.Options.Add("compression", compression);
        await RunAsync($"-- write {table} as parquet ({compression}) to {directory}\n{query}", new Plan { Command = new Command { WriteOperation = write } }, cancellationToken);
    }

    private static Plan Root(string sql) => new() { Root = new Relation { Sql = new SQL { Query = sql } } };

    private async Task<IReadOnlyList<ExecutePlanResponse>> RunAsync(string sql, Plan plan, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            var responses = await _client.ExecuteAsync(plan, "running " + Describe(sql), ct);
            _logger.LogDebug("Spark {Elapsed} ms: {Sql}", watch.ElapsedMilliseconds, sql);
            return responses;
        }
        catch (EngineException)
        {
            _logger.LogDebug("Spark failed after {Elapsed} ms: {Sql}", watch.ElapsedMilliseconds, sql);
            throw;
        }
    }

    /// <summary>A statement's first meaningful line, for messages (the SQL itself is logged at debug level only).</summary>
    private static string Describe(string sql)
    {
        var line = sql.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0 && !l.StartsWith("--", StringComparison.Ordinal))
                   ?? sql.Split('\n')[0].TrimStart('-', ' ');
        return line.Length > 120 ? line[..120] + "…" : line;
    }

    private static IEnumerable<RecordBatch> Batches(IReadOnlyList<ExecutePlanResponse> responses)
    {
        foreach (var response in responses)
        {
            if (response.ResponseTypeCase != ExecutePlanResponse.ResponseTypeOneofCase.ArrowBatch) continue;
            foreach (var batch in ArrowConversion.ReadStream(response.ArrowBatch.Data.Memory)) yield return batch;
        }
    }

    /// <summary>A result schema as the bulk-read types (only needed when a result has no Arrow batch at all).</summary>
    private static List<(string, ColumnType)> SchemaOf(DataType type)
    {
        if (type.KindCase != DataType.KindOneofCase.Struct) return [];
        return type.Struct.Fields.Select(f => (f.Name, f.DataType.KindCase switch
        {
            DataType.KindOneofCase.Integer => ColumnType.Int32Bit,
            DataType.KindOneofCase.Long => ColumnType.Int64Bit,
            DataType.KindOneofCase.Double => ColumnType.Real,
            DataType.KindOneofCase.String => ColumnType.Text,
            var other => throw new NotSupportedException($"Column '{f.Name}' is {other}; bulk reads take INTEGER, BIGINT, DOUBLE or STRING (cast it in the query)."),
        })).ToList();
    }

    /// <summary>The schema Spark gives a query, without running it (AnalyzePlan): column names and Spark type names.</summary>
    public async Task<IReadOnlyList<(string Name, string Type)>> SchemaAsync(string sql, CancellationToken cancellationToken)
    {
        var response = await _client.AnalyzeAsync(new AnalyzePlanRequest { Schema = new AnalyzePlanRequest.Types.Schema { Plan = Root(sql) } }, "analysing " + Describe(sql), cancellationToken);
        var schema = response.Schema?.Schema_;
        if (schema?.KindCase != DataType.KindOneofCase.Struct) return [];
        return schema.Struct.Fields.Select(f => (f.Name, f.DataType.KindCase.ToString())).ToList();
    }

    /// <summary>AnalyzePlan of a Read relation over the parquet data source: Spark lists the path and infers the schema, reading footers only.</summary>
    public async Task<IReadOnlyList<LakeColumn>> ParquetSchemaAsync(string path, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        var request = new AnalyzePlanRequest { Schema = new AnalyzePlanRequest.Types.Schema { Plan = new Plan { Root = LakePlans.ReadParquet(path) } } };
        var response = await _client.AnalyzeAsync(request, $"reading the Parquet schema at '{path}'", cancellationToken);
        var schema = response.Schema?.Schema_;
        if (schema?.KindCase != DataType.KindOneofCase.Struct) return [];
        return schema.Struct.Fields.Select(LakePlans.Column).ToList();
    }

    public async Task<IReadOnlyList<LakeFile>> ParquetFilesAsync(string path, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        var rows = await QueryAsync(LakePlans.FilesQuery(path), cancellationToken);
        return rows.Select(r => new LakeFile(
            (string)r["file_path"]!,
            Convert.ToInt64(r["file_size"], System.Globalization.CultureInfo.InvariantCulture),
            r["modified"] is DateTime t ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : default,
            Convert.ToInt64(r["row_count"], System.Globalization.CultureInfo.InvariantCulture))).ToList();
    }

    public async Task WriteTextAsync(string path, string content, bool append, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(content);
        var (data, _) = await ArrowConversion.WriteStreamAsync([("value", ColumnType.Text)], One(new ColumnTable(1, [Core.Engine.Column.Of("value", new string?[] { content })])), cancellationToken);
        if (data.Length > MaxLocalRelationBytes)
            throw new EngineException($"Spark Connect: the text for '{path}' is {data.Length / (1024 * 1024)} MB, above the {MaxLocalRelationBytes / (1024 * 1024)} MB one request may carry.");
        await RunAsync($"-- write {content.Length} character(s) as text to {path}{(append ? " (append)" : "")}", new Plan { Command = new Command { WriteOperation = LakePlans.WriteText(data, path, append) } }, cancellationToken);
    }

    private static async IAsyncEnumerable<ColumnTable> One(ColumnTable table)
    {
        await Task.CompletedTask;
        yield return table;
    }

    private void Remember(string table, bool cached)
    {
        var index = _views.FindIndex(v => v.Name == table);
        if (index >= 0) _views[index] = (table, cached || _views[index].Cached);
        else _views.Add((table, cached));
    }

    /// <summary>
    /// Releases what the session holds on the server: caches (UNCACHE TABLE), temporary views (DROP VIEW), newest first,
    /// then the session itself (ReleaseSession, 4.0+). Bounded in time; a failure is logged, never thrown, because it
    /// runs while a failed run unwinds and the server drops a session's views and caches when the session expires.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_client.ServerUnreachable)
        {
            // Retrying clean-up against a server that is gone would only delay the error the run reports; the server
            // drops the session's views and caches itself when the session expires.
            _client.Dispose();
            return;
        }
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            foreach (var (name, cached) in Enumerable.Reverse(_views))
            {
                if (cached) await ExecuteAsync($"UNCACHE TABLE IF EXISTS {Dialect.Quote(name)}", bound.Token);
                await ExecuteAsync($"DROP VIEW IF EXISTS {Dialect.Quote(name)}", bound.Token);
            }
            _views.Clear();
        }
        catch (Exception e) when (e is EngineException or OperationCanceledException)
        {
            _logger.LogWarning("Spark Connect: releasing the session's views and caches failed ({Message}); the server drops them when session {Session} expires", e.Message.Split('\n')[0], SessionId);
        }
        await _client.ReleaseSessionAsync();
        _client.Dispose();
    }
}
