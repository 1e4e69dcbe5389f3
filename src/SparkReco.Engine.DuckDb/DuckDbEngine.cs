using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;
using SparkReco.Core.Configuration;
using SparkReco.Core.Engine;
using SparkReco.Core.Errors;
using SparkReco.Core.Sql;

namespace SparkReco.Engine.DuckDb;

/// <summary>
/// The embedded engine. The database lives in memory, with a private work folder as its temp directory: tables and
/// operators beyond Engine:MemoryLimit spill there instead of failing. (A file-backed database spent about twice as long
/// writing each intermediate table, compressing it for a file nobody reads again; measured on 5M events, 52.7 s against
/// 43.3 s for the whole run.) The folder is removed on dispose.
/// </summary>
public sealed class DuckDbEngine : IEngine
{
    private readonly DuckDBConnection _connection;
    private readonly string _workDirectory;
    private readonly ILogger _logger;
    private FileStream? _workLock;
    private readonly bool _ownsWorkDirectory;

    private const string WorkDirectoryPrefix = "sparkreco-duckdb-";
    private const string WorkLockFileName = "in-use.lock";

    private DuckDbEngine(DuckDBConnection connection, string workDirectory, string version, ILogger logger, FileStream? workLock = null, bool ownsWorkDirectory = true)
    {
        _connection = connection;
        _workDirectory = workDirectory;
        Version = version;
        _logger = logger;
        _workLock = workLock;
        _ownsWorkDirectory = ownsWorkDirectory;
    }

    /// <summary>A second connection to the same in-memory database (its tables are shared; its time zone is set like the first's).</summary>
    public async Task<IEngine?> OpenSessionAsync(CancellationToken cancellationToken)
    {
        var connection = _connection.Duplicate();
        var session = new DuckDbEngine(connection, _workDirectory, Version, _logger, ownsWorkDirectory: false);
        try
        {
            await connection.OpenAsync(cancellationToken);
            // TimeZone is per connection; memory, threads, temp directory and extension settings are the database's.
            await session.ExecuteAsync("SET TimeZone = 'UTC'", cancellationToken);
            return session;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public string Name => "duckdb";
    public string Version { get; }
    public ISqlDialect Dialect => DuckDbDialect.Instance;

    public static async Task<DuckDbEngine> OpenAsync(EngineSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        var root = settings.TempDirectory ?? Path.GetTempPath();
        RemoveStaleWorkDirectories(root, logger);
        var name = WorkDirectoryPrefix + Guid.NewGuid().ToString("N")[..12];
        var workDirectory = Path.Combine(root, name);
        FileStream workLock;
        try
        {
            // The folder is made and locked under a name the clean-up ignores, then renamed: between creating a lock file
            // and locking it there is a moment when it looks free, and another engine starting at that moment must not
            // take the folder for a dead run's.
            var starting = Path.Combine(root, ".starting-" + name);
            Directory.CreateDirectory(starting);
            // Held for the engine's life: the OS drops it when the process dies, which is how the next run
            // tells a killed run's folder (spill files, database, WAL) from one still in use.
            workLock = new FileStream(Path.Combine(starting, WorkLockFileName), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
            Directory.Move(starting, workDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"setting 'Engine:TempDirectory': cannot create '{workDirectory}': {e.Message}. Point it to a writable folder with free space.", e);
        }

        var connection = new DuckDBConnection("Data Source=:memory:");
        var engine = new DuckDbEngine(connection, workDirectory, "unknown", logger, workLock);
        try
        {
            await connection.OpenAsync(cancellationToken);
            // A run must never reach the network: no extension downloads, no autoloading.
            var setup = new List<string>
            {
                "SET autoinstall_known_extensions = false",
                "SET autoload_known_extensions = false",
                $"SET temp_directory = {DuckDbDialect.Instance.Literal(Path.Combine(workDirectory, "spill"))}",
                "SET TimeZone = 'UTC'",
                "SET preserve_insertion_order = true",
            };
            var memoryLimit = settings.MemoryLimit ?? DefaultMemoryLimit();
            var wanted = settings.Threads > 0 ? settings.Threads : Environment.ProcessorCount;
            var threads = ThreadsFor(wanted, memoryLimit);
            if (threads < wanted)
                logger.LogInformation("Engine:MemoryLimit {Limit} leaves less than {PerThread} MiB per DuckDB thread: DuckDB runs {Threads} thread(s), so its aggregates spill instead of failing", memoryLimit, MinBytesPerThread >> 20, threads);
            if (settings.Threads > 0 || threads < Environment.ProcessorCount) setup.Add($"SET threads = {threads}");
            setup.Add($"SET memory_limit = {DuckDbDialect.Instance.Literal(memoryLimit)}");
            foreach (var statement in setup) await engine.ExecuteAsync(statement, cancellationToken);
            var version = (await engine.QueryAsync("SELECT version() AS v", cancellationToken))[0]["v"]?.ToString() ?? "unknown";
            engine._workLock = null;
            return new DuckDbEngine(connection, workDirectory, "DuckDB " + version, logger, workLock);
        }
        catch
        {
            await connection.DisposeAsync();
            await workLock.DisposeAsync();
            TryDelete(workDirectory);
            throw;
        }
    }

    /// <summary>
    /// <see cref="EngineSettings.DefaultMemoryShare"/> of the memory this process may use (the container's limit where there is one):
    /// DuckDB's own default of 80% leaves too little for the kernels' arrays and ML.NET in the same process.
    /// </summary>
    /// <summary>
    /// Below this much memory per worker thread DuckDB's hash aggregates fail with out-of-memory instead of spilling: each
    /// thread holds its own partitions. Measured on 2M generated events: 200MB with 2 threads fails in clean_events' DISTINCT,
    /// 200MB with 1 thread and 400MB with 2 run to the end.
    /// </summary>
    public const long MinBytesPerThread = 128L << 20;

    /// <summary>The DuckDB threads a memory limit affords: at most <paramref name="wanted"/>, at least one, each with <see cref="MinBytesPerThread"/>.</summary>
    public static int ThreadsFor(int wanted, string memoryLimit)
    {
        var bytes = EngineSettings.Bytes(memoryLimit);
        return bytes is null ? wanted : (int)Math.Clamp(bytes.Value / MinBytesPerThread, 1, wanted);
    }

    private static string DefaultMemoryLimit()
    {
        var bytes = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return $"{(long)(bytes * EngineSettings.DefaultMemoryShare / (1024 * 1024))}MB";
    }

    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(sql);
        await Run(sql, () => command.ExecuteNonQueryAsync(cancellationToken));
    }

    public async Task<long> CreateTableAsync(string table, string selectSql, CancellationToken cancellationToken)
    {
        var name = Dialect.Quote(table);
        foreach (var statement in DuckDbDialect.Instance.Materialize(table, selectSql)) await ExecuteAsync(statement, cancellationToken);
        var rows = await QueryAsync($"SELECT count(*) AS n FROM {name}", cancellationToken);
        return Convert.ToInt64(rows[0]["n"], System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> QueryAsync(string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(sql);
        return await Run(sql, async () =>
        {
            var result = new List<IReadOnlyDictionary<string, object?>>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var row = new Dictionary<string, object?>(reader.FieldCount, StringComparer.Ordinal);
                for (var i = 0; i < reader.FieldCount; i++)
                    row[reader.GetName(i)] = reader.IsDBNull(i) ? null : Normalise(reader.GetValue(i));
                result.Add(row);
            }
            return (IReadOnlyList<IReadOnlyDictionary<string, object?>>)result;
        });
    }

    public bool IsInProcess => true;

    public Task<ColumnTable> ReadColumnsAsync(string sql, CancellationToken cancellationToken) =>
        Run(sql, () => Task.FromResult(ChunkReader.Read(_connection.NativeConnection, sql, cancellationToken)));

    public Task<long> WriteTableAsync(string table, IReadOnlyList<(string Name, ColumnType Type)> schema, IAsyncEnumerable<ColumnTable> blocks, CancellationToken cancellationToken) =>
        WriteTableAsync(table, schema, blocks, sessionOnly: false, cancellationToken);

    public async Task<long> WriteTableAsync(string table, IReadOnlyList<(string Name, ColumnType Type)> schema, IAsyncEnumerable<ColumnTable> blocks, bool sessionOnly, CancellationToken cancellationToken)
    {
        await ExecuteAsync(DuckDbDialect.Instance.CreateEmptyTable(table, schema.Select(c => $"{Dialect.Quote(c.Name)} {SqlType(c.Type)}"), sessionOnly), cancellationToken);
        long rows = 0;
        var watch = Stopwatch.StartNew();
        try
        {
            using var appender = _connection.CreateAppender(table);
            await foreach (var block in blocks.WithCancellation(cancellationToken))
            {
                var columns = schema.Select(c => block.Columns.First(b => b.Name == c.Name)).ToArray();
                var values = columns.Select(c => c.Values).ToArray();
                var nulls = columns.Select(c => c.Nulls).ToArray();
                for (var r = 0; r < block.RowCount; r++)
                {
                    var row = appender.CreateRow();
                    for (var c = 0; c < values.Length; c++)
                    {
                        if (nulls[c]?[r] == true)
                        {
                            row = row.AppendNullValue();
                            continue;
                        }
                        row = values[c] switch
                        {
                            int[] v => row.AppendValue(v[r]),
                            long[] v => row.AppendValue(v[r]),
                            double[] v => row.AppendValue(v[r]),
                            string?[] v => v[r] is null ? row.AppendNullValue() : row.AppendValue(v[r]),
                            _ => throw new NotSupportedException($"Column '{schema[c].Name}' has an unsupported array type."),
                        };
                    }
                    row.EndRow();
                }
                rows += block.RowCount;
            }
        }
        catch (DuckDBException e)
        {
            throw DuckDbErrors.ToEngineException(e, $"DuckDB: writing table '{table}' failed: {e.Message}");
        }
        _logger.LogDebug("DuckDB appended {Rows} rows to {Table} in {Elapsed} ms", rows, table, watch.ElapsedMilliseconds);
        return rows;
    }

    private static string SqlType(ColumnType type) => type switch
    {
        ColumnType.Int32Bit => "INTEGER",
        ColumnType.Int64Bit => "BIGINT",
        ColumnType.Real => "DOUBLE",
        ColumnType.Text => "VARCHAR",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    public async Task WriteParquetAsync(string table, string directory, IReadOnlyList<string> orderBy, string compression, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var columns = await QueryAsync($"DESCRIBE {Dialect.Quote(table)}", cancellationToken);
        var order = orderBy.Count == 0 ? "" : "\nORDER BY " + string.Join(", ", orderBy.Select(Dialect.Quote));
        var file = Path.Combine(directory, "part-00000.parquet");
        await ExecuteAsync(
            $"COPY (SELECT {string.Join(", ", columns.Select(PublishedColumn))} FROM {Dialect.Quote(table)}{order})\n" +
            $"TO {Dialect.Literal(file)} (FORMAT parquet, COMPRESSION {Codec(compression)})",
            cancellationToken);
    }

    /// <summary>
    /// A column as published. DuckDB writes TIMESTAMP as a Parquet timestamp that is not UTC-adjusted (a local date-time),
    /// while the stages' timestamps are UTC instants (inputs carry the flag, the session time zone is UTC): cast to
    /// TIMESTAMPTZ, which DuckDB writes as TIMESTAMP(isAdjustedToUTC=true, MICROS), what Spark writes and readers expect.
    /// </summary>
    private string PublishedColumn(IReadOnlyDictionary<string, object?> column)
    {
        var name = Dialect.Quote(Convert.ToString(column["column_name"], CultureInfo.InvariantCulture)!);
        var type = Convert.ToString(column["column_type"], CultureInfo.InvariantCulture);
        return type is "TIMESTAMP" or "TIMESTAMP_S" or "TIMESTAMP_MS" or "TIMESTAMP_NS" ? $"CAST({name} AS TIMESTAMPTZ) AS {name}" : name;
    }

    /// <summary>A codec name checked against the known ones before it goes into the COPY statement.</summary>
    private static string Codec(string compression) =>
        OutputSettings.Codecs.Contains(compression) ? compression : throw new ArgumentOutOfRangeException(nameof(compression), compression, "Not a Parquet codec this engine writes.");

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        if (_workLock is not null) await _workLock.DisposeAsync();
        if (_ownsWorkDirectory) TryDelete(_workDirectory);
    }

    /// <summary>
    /// Removes work folders of runs that were killed (kill -9, OOM killer, power cut): their lock file can be
    /// taken, because the OS released it with the dead process. Folders of runs still going stay.
    /// </summary>
    private static void RemoveStaleWorkDirectories(string root, ILogger logger)
    {
        if (!Directory.Exists(root)) return;
        foreach (var directory in Directory.EnumerateDirectories(root, WorkDirectoryPrefix + "*"))
        {
            try
            {
                using (new FileStream(Path.Combine(directory, WorkLockFileName), FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                    // Taken: nobody holds it.
                }
                Directory.Delete(directory, recursive: true);
                logger.LogInformation("Removed the engine folder {Folder} left by a run that did not finish", directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // In use by a running job (or a folder from an older version without a lock file): left alone.
            }
        }
    }

    private DuckDBCommand Command(string sql)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    private async Task<T> Run<T>(string sql, Func<Task<T>> action)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            var result = await action();
            _logger.LogDebug("DuckDB {Elapsed} ms: {Sql}", watch.ElapsedMilliseconds, sql);
            return result;
        }
        catch (Exception e) when (e is DuckDBException or QueryFailedException)
        {
            _logger.LogDebug("DuckDB failed after {Elapsed} ms: {Sql}", watch.ElapsedMilliseconds, sql);
            var hint = e.Message.Contains("Out of Memory", StringComparison.OrdinalIgnoreCase)
                ? " Raise Engine:MemoryLimit, lower Engine:Threads, or give Engine:TempDirectory more free disk."
                : e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
                ? " The engine's spill files filled the disk; point Engine:TempDirectory at a larger disk, or shrink the work (e.g. Neighbors:TopK, Similarity:TopK, Neighbors:MaxUsersPerItem)."
                : "";
            var type = e is DuckDBException duck ? duck.ErrorType : ((QueryFailedException)e).ErrorType;
            throw DuckDbErrors.ToEngineException(e, type, $"DuckDB: {e.Message}{hint}");
        }
    }

    /// <summary>DuckDB sums integers into HUGEINT; the driver side only ever needs them as long.</summary>
    private static object Normalise(object value) => value switch
    {
        System.Numerics.BigInteger big when big >= long.MinValue && big <= long.MaxValue => (long)big,
        _ => value,
    };

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder is harmless and the OS cleans temp eventually.
        }
    }
}
