using SparkReco.Core.Sql;

namespace SparkReco.Core.Engine;

/// <summary>
/// An engine runs the job's SQL where the data lives. The driver only ever pulls small results
/// (counts, samples, model inputs) through <see cref="QueryAsync"/>.
/// </summary>
public interface IEngine : IAsyncDisposable
{
    string Name { get; }

    /// <summary>Engine and version, for the manifest.</summary>
    string Version { get; }

    ISqlDialect Dialect { get; }

    /// <summary>Runs a statement with no result (DDL, views).</summary>
    Task ExecuteAsync(string sql, CancellationToken cancellationToken);

    /// <summary>Materialises <paramref name="selectSql"/> as table <paramref name="table"/> (replacing it) and returns its row count.</summary>
    Task<long> CreateTableAsync(string table, string selectSql, CancellationToken cancellationToken);

    /// <summary>Runs a query and returns its (small) result on the driver.</summary>
    Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> QueryAsync(string sql, CancellationToken cancellationToken);

    /// <summary>Writes a table as Parquet part files into <paramref name="directory"/>, rows ordered by <paramref name="orderBy"/>.</summary>
    Task WriteParquetAsync(string table, string directory, IReadOnlyList<string> orderBy, CancellationToken cancellationToken);
}
