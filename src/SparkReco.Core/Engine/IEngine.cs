using SparkReco.Core.Sql;

namespace SparkReco.Core.Engine;

/// <summary>
/// An engine runs the job's SQL where the data lives. The driver only ever pulls small results
/// (counts, samples, model inputs) through <see cref="QueryAsync"/>, and hands small driver-made tables (centroids,
/// weights, profiles, the pseudonymisation key) over as rows through <see cref="WriteTableAsync(string, IReadOnlyList{ValueTuple{string, ColumnType}}, IAsyncEnumerable{ColumnTable}, bool, CancellationToken)"/>,
/// never as values in SQL text. Every failure of a statement surfaces as <see cref="Errors.EngineException"/> (transient
/// flag, error class, SQL state), whichever engine ran it.
/// </summary>
public interface IEngine : IAsyncDisposable
{
    string Name { get; }

    /// <summary>Engine and version, for the manifest.</summary>
    string Version { get; }

    ISqlDialect Dialect { get; }

    /// <summary>Runs a statement with no result (DDL, views).</summary>
    Task ExecuteAsync(string sql, CancellationToken cancellationToken);

    /// <summary>Column names of a table, in order (DuckDB's DESCRIBE says column_name, Spark's col_name).</summary>
    async Task<IReadOnlyList<string>> ColumnsAsync(string table, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync($"DESCRIBE {Dialect.Quote(table)}", cancellationToken);
        var names = new List<string>();
        foreach (var row in rows)
        {
            var name = (row.TryGetValue("column_name", out var n) ? n : row.TryGetValue("col_name", out var m) ? m : null)?.ToString();
            if (string.IsNullOrEmpty(name) || name.StartsWith('#')) break; // Spark lists partition info after the columns
            names.Add(name);
        }
        return names;
    }

    /// <summary>Materialises <paramref name="selectSql"/> as table <paramref name="table"/> (replacing it) and returns its row count.</summary>
    Task<long> CreateTableAsync(string table, string selectSql, CancellationToken cancellationToken);

    /// <summary>Runs a query and returns its (small) result on the driver.</summary>
    Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> QueryAsync(string sql, CancellationToken cancellationToken);

    /// <summary>
    /// Whether the engine's tables live in this process, so C# kernels may read and write them whole
    /// (<c>Engine:Kernels</c>). A cluster engine says false: its stages run the SQL where the data is.
    /// </summary>
    bool IsInProcess { get; }

    /// <summary>Runs a query and returns every row as typed columns (INTEGER, BIGINT, DOUBLE, VARCHAR; other types are refused).</summary>
    Task<ColumnTable> ReadColumnsAsync(string sql, CancellationToken cancellationToken);

    /// <summary>
    /// Creates (replacing) <paramref name="table"/> with <paramref name="schema"/> and appends each block's rows in order;
    /// returns the row count. How kernels hand results back in bulk, and how small driver-made tables are registered
    /// (no values in SQL text).
    /// </summary>
    Task<long> WriteTableAsync(string table, IReadOnlyList<(string Name, ColumnType Type)> schema, IAsyncEnumerable<ColumnTable> blocks, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="WriteTableAsync(string, IReadOnlyList{ValueTuple{string, ColumnType}}, IAsyncEnumerable{ColumnTable}, CancellationToken)"/>
    /// with <paramref name="sessionOnly"/>: the table lives only in the session's memory and never in the engine's files
    /// (DuckDB: a TEMP table, no WAL; Spark: a LocalRelation view). For secrets such as the pseudonymisation key.
    /// </summary>
    Task<long> WriteTableAsync(string table, IReadOnlyList<(string Name, ColumnType Type)> schema, IAsyncEnumerable<ColumnTable> blocks, bool sessionOnly, CancellationToken cancellationToken);

    /// <summary>
    /// Another session on the same tables, so independent stages can run at the same time (the embedded engine: a second
    /// connection to the same database). Null when the engine runs one stage at a time. The session is disposed by the
    /// caller; disposing it leaves the engine and its tables alone.
    /// </summary>
    Task<IEngine?> OpenSessionAsync(CancellationToken cancellationToken) => Task.FromResult<IEngine?>(null);

    /// <summary>
    /// Writes a table as Parquet part files into <paramref name="directory"/>, rows ordered by <paramref name="orderBy"/>,
    /// pages compressed with <paramref name="compression"/> (one of <see cref="Configuration.OutputSettings.Codecs"/>).
    /// </summary>
    Task WriteParquetAsync(string table, string directory, IReadOnlyList<string> orderBy, string compression, CancellationToken cancellationToken);
}
