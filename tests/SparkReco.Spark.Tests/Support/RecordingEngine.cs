using SparkReco.Core.Engine;
using SparkReco.Core.Sql;

namespace SparkReco.Spark.Tests.Support;

/// <summary>What an engine answered to one call that returns data: rows, typed columns, or a materialised table's count.</summary>
internal abstract record EngineAnswer(string Sql)
{
    public sealed record Rows(string Sql, IReadOnlyList<IReadOnlyDictionary<string, object?>> Values) : EngineAnswer(Sql);
    public sealed record Columns(string Sql, ColumnTable Table) : EngineAnswer(Sql);
    public sealed record Count(string Sql, long Value) : EngineAnswer(Sql);
}

/// <summary>
/// Wraps an engine and records, in order, every answer it gives the job (query rows, bulk columns, table counts). The
/// record-mode test replays these answers to the Spark engine, so the job's driver-side steps (samples, fits, facts)
/// get real, schema-correct data for the same input.
/// </summary>
internal sealed class RecordingEngine(IEngine inner) : IEngine
{
    public List<EngineAnswer> Answers { get; } = [];

    public string Name => inner.Name;
    public string Version => inner.Version;
    public ISqlDialect Dialect => inner.Dialect;
    public bool IsInProcess => inner.IsInProcess;

    public Task ExecuteAsync(string sql, CancellationToken cancellationToken) => inner.ExecuteAsync(sql, cancellationToken);

    /// <summary>The job binds no parameters (driver values travel as rows); refusing here keeps the recording honest.</summary>
    public Task ExecuteAsync(string sql, IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken) =>
        throw new NotSupportedException("The record-mode test does not expect bound parameters: the job registers driver values as rows.");

    public async Task<long> CreateTableAsync(string table, string selectSql, CancellationToken cancellationToken)
    {
        var rows = await inner.CreateTableAsync(table, selectSql, cancellationToken);
        Answers.Add(new EngineAnswer.Count(table, rows));
        return rows;
    }

    public async Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> QueryAsync(string sql, CancellationToken cancellationToken)
    {
        var rows = await inner.QueryAsync(sql, cancellationToken);
        Answers.Add(new EngineAnswer.Rows(sql, rows));
        return rows;
    }

    public async Task<ColumnTable> ReadColumnsAsync(string sql, CancellationToken cancellationToken)
    {
        var table = await inner.ReadColumnsAsync(sql, cancellationToken);
        Answers.Add(new EngineAnswer.Columns(sql, table));
        return table;
    }

    public Task<long> WriteTableAsync(string table, IReadOnlyList<(string Name, ColumnType Type)> schema, IAsyncEnumerable<ColumnTable> blocks, CancellationToken cancellationToken) =>
        inner.WriteTableAsync(table, schema, blocks, cancellationToken);

    public Task<long> WriteTableAsync(string table, IReadOnlyList<(string Name, ColumnType Type)> schema, IAsyncEnumerable<ColumnTable> blocks, bool sessionOnly, CancellationToken cancellationToken) =>
        inner.WriteTableAsync(table, schema, blocks, sessionOnly, cancellationToken);

    public Task WriteParquetAsync(string table, string directory, IReadOnlyList<string> orderBy, string compression, CancellationToken cancellationToken) =>
        inner.WriteParquetAsync(table, directory, orderBy, compression, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
