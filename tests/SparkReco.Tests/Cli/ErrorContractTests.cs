using Microsoft.Extensions.Logging.Abstractions;
using SparkReco.Cli;
using SparkReco.Core.Configuration;
using SparkReco.Core.Errors;
using SparkReco.Engine.DuckDb;

namespace SparkReco.Tests.Cli;

/// <summary>The engine contract's errors (one exception type with error class, SQL state, transient flag) and Main's catch-all.</summary>
public sealed class ErrorContractTests
{
    [Theory]
    [InlineData("SELEC 1", "Parser", "42601")]
    [InlineData("SELECT * FROM no_such_table", "Catalog", "42P01")]
    [InlineData("SELECT CAST('x' AS INTEGER) AS n", "Conversion", "22018")]
    public async Task DuckDb_errors_become_engine_exceptions_with_class_and_sql_state(string sql, string errorClass, string sqlState)
    {
        await using var engine = await DuckDbEngine.OpenAsync(new EngineSettings("duckdb", 1, null, null), NullLogger.Instance, CancellationToken.None);
        var e = await Assert.ThrowsAsync<EngineException>(() => engine.QueryAsync(sql, CancellationToken.None));
        Assert.Equal(errorClass, e.ErrorClass);
        Assert.Equal(sqlState, e.SqlState);
        Assert.False(e.IsTransient);
        Assert.Equal(ExitCodes.Engine, e.ExitCode);
        Assert.StartsWith("DuckDB: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_interrupted_or_network_failures_are_transient()
    {
        Assert.True(DuckDbErrors.IsTransient("Interrupt"));
        Assert.True(DuckDbErrors.IsTransient("Http"));
        Assert.False(DuckDbErrors.IsTransient("OutOfMemory"));
        Assert.False(DuckDbErrors.IsTransient("Catalog"));
    }

    [Fact]
    public void An_unexpected_exception_is_reported_on_one_line_with_where_it_was_thrown()
    {
        Exception thrown;
        try
        {
            throw new InvalidOperationException("first line\nsecond line");
        }
        catch (InvalidOperationException e)
        {
            thrown = e;
        }
        var line = Program.InternalError(thrown);
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("internal error (a bug, please report it): InvalidOperationException in ", line, StringComparison.Ordinal);
        Assert.Contains(nameof(An_unexpected_exception_is_reported_on_one_line_with_where_it_was_thrown), line, StringComparison.Ordinal);
        Assert.EndsWith(": first line", line, StringComparison.Ordinal);
    }
}
