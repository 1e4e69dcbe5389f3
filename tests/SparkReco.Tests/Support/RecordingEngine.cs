using SparkReco.Core.Engine;
using SparkReco.Core.Sql;
using SparkReco.Core.Stages;

namespace SparkReco.Tests.Support;

/// <summary>
/// An engine that runs everything on another one and records what it was asked to do, as <c>plan</c> prints it: SQL text
/// as given, materialisations in the dialect's statement form, and bulk registrations as their one-line shape (never values).
/// The same trace a verbose run logs statement by statement.
/// </summary>
public sealed class RecordingEngine(IEngine inner) : IEngine
{
    private readonly List<string> _trace = [];

    public IReadOnlyList<string> Trace => _trace;

    public string Name => inner.Name;
    public string Version => inner.Version;
    public ISqlDialect Dialect => inner.Dialect;
    public bool IsInProcess => inner.IsInProcess;

    public Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        _trace.Add(sql);
        return inner.ExecuteAsync(sql, cancellationToken);
    }

    public Task<long> CreateTableAsync(string table, string selectSql, CancellationToken cancellationToken)
    {
        _trace.AddRange(inner.Dialect.Materialize(table, selectSql));
        return inner.CreateTableAsync(table, selectSql, cancellationToken);
    }

    public Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> QueryAsync(string sql, CancellationToken cancellationToken)
    {
        _trace.Add(sql);
        return inner.QueryAsync(sql, cancellationToken);
    }

    public Task<ColumnTable> ReadColumnsAsync(string sql, CancellationToken cancellationToken)
    {
        _trace.Add(sql);
        return inner.ReadColumnsAsync(sql, cancellationToken);
    }

    public Task<long> WriteTableAsync(string table, IReadOnlyList<(string Name, ColumnType Type)> schema, IAsyncEnumerable<ColumnTable> blocks, CancellationToken cancellationToken) =>
        WriteTableAsync(table, schema, blocks, sessionOnly: false, cancellationToken);

    public Task<long> WriteTableAsync(string table, IReadOnlyList<(string Name, ColumnType Type)> schema, IAsyncEnumerable<ColumnTable> blocks, bool sessionOnly, CancellationToken cancellationToken)
    {
        _trace.Add(RegisterStep.Describe(inner.Dialect, table, schema, rowsDescription: null, sessionOnly));
        return inner.WriteTableAsync(table, schema, blocks, sessionOnly, cancellationToken);
    }

    public Task WriteParquetAsync(string table, string directory, IReadOnlyList<string> orderBy, string compression, CancellationToken cancellationToken)
    {
        _trace.Add(Jobs.PlanWriter.DescribeWrite(Path.GetFileName(directory), orderBy));
        return inner.WriteParquetAsync(table, directory, orderBy, compression, cancellationToken);
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
