using System.Diagnostics;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;
using SparkReco.Core.Configuration;
using SparkReco.Core.Engine;
using SparkReco.Core.Errors;
using SparkReco.Core.Sql;

namespace SparkReco.Engine.DuckDb;

/// <summary>
/// The embedded engine. The database is file-backed in a private work folder so that large
/// intermediate tables spill to disk instead of failing; the folder is removed on dispose.
/// </summary>
public sealed class DuckDbEngine : IEngine
{
    private readonly DuckDBConnection _connection;
    private readonly string _workDirectory;
    private readonly ILogger _logger;
    private FileStream? _workLock;

    private const string WorkDirectoryPrefix = "sparkreco-duckdb-";
    private const string WorkLockFileName = "in-use.lock";

    private DuckDbEngine(DuckDBConnection connection, string workDirectory, string version, ILogger logger, FileStream? workLock = null)
    {
        _connection = connection;
        _workDirectory = workDirectory;
        Version = version;
        _logger = logger;
        _workLock = workLock;
    }

    public string Name => "duckdb";
    public string Version { get; }
    public ISqlDialect Dialect => DuckDbDialect.Instance;

    public static async Task<DuckDbEngine> OpenAsync(EngineSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        var root = settings.TempDirectory ?? Path.GetTempPath();
        RemoveStaleWorkDirectories(root, logger);
        var workDirectory = Path.Combine(root, WorkDirectoryPrefix + Guid.NewGuid().ToString("N")[..12]);
        FileStream workLock;
        try
        {
            Directory.CreateDirectory(workDirectory);
            // Held for the engine's life: the OS drops it when the process dies, which is how the next run
            // tells a killed run's folder (spill files, database, WAL) from one still in use.
            workLock = new FileStream(Path.Combine(workDirectory, WorkLockFileName), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"setting 'Engine:TempDirectory': cannot create '{workDirectory}': {e.Message}. Point it to a writable folder with free space.", e);
        }

        var connection = new DuckDBConnection($"Data Source={Path.Combine(workDirectory, "work.duckdb")}");
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
            if (settings.Threads > 0) setup.Add($"SET threads = {settings.Threads}");
            if (settings.MemoryLimit is not null) setup.Add($"SET memory_limit = {DuckDbDialect.Instance.Literal(settings.MemoryLimit)}");
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

    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(sql);
        await Run(sql, () => command.ExecuteNonQueryAsync(cancellationToken));
    }

    public async Task ExecuteAsync(string sql, IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken)
    {
        await using var command = Command(sql);
        foreach (var (name, value) in parameters) command.Parameters.Add(new DuckDBParameter(name, value));
        await Run(sql, () => command.ExecuteNonQueryAsync(cancellationToken));
    }

    public async Task<long> CreateTableAsync(string table, string selectSql, CancellationToken cancellationToken)
    {
        var name = Dialect.Quote(table);
        await ExecuteAsync($"CREATE OR REPLACE TABLE {name} AS\n{selectSql}", cancellationToken);
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

    public Task WriteParquetAsync(string table, string directory, IReadOnlyList<string> orderBy, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var order = orderBy.Count == 0 ? "" : "\nORDER BY " + string.Join(", ", orderBy.Select(Dialect.Quote));
        var file = Path.Combine(directory, "part-00000.parquet");
        return ExecuteAsync(
            $"COPY (SELECT * FROM {Dialect.Quote(table)}{order})\nTO {Dialect.Literal(file)} (FORMAT parquet, COMPRESSION zstd)",
            cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        if (_workLock is not null) await _workLock.DisposeAsync();
        TryDelete(_workDirectory);
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
        catch (DuckDBException e)
        {
            _logger.LogDebug("DuckDB failed after {Elapsed} ms: {Sql}", watch.ElapsedMilliseconds, sql);
            var hint = e.Message.Contains("Out of Memory", StringComparison.OrdinalIgnoreCase)
                ? " Raise Engine:MemoryLimit, lower Engine:Threads, or give Engine:TempDirectory more free disk."
                : e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
                ? " The engine's spill files filled the disk; point Engine:TempDirectory at a larger disk, or shrink the work (e.g. Neighbors:TopK, Similarity:TopK, Neighbors:MaxUsersPerItem)."
                : "";
            throw new EngineException($"DuckDB: {e.Message}{hint}", e);
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
