using SparkReco.Core.Engine;
using SparkReco.Core.Errors;
using SparkReco.Core.Sql;
using SparkReco.Core.Stages;
using SparkReco.Engine.DuckDb;
using SparkReco.Engine.Spark;
using SparkReco.Jobs;

namespace SparkReco.Tests.Sql;

public sealed class DialectTests
{
    private static readonly SparkDialect Spark = SparkDialect.Instance;

    [Fact]
    public void Spark_quotes_identifiers_with_backticks_and_escapes_literals_with_backslashes()
    {
        Assert.Equal("`a``b`", Spark.Quote("a`b"));
        // 'it''s' would be two adjacent literals in Spark ("its"), so the quote is escaped with a backslash.
        Assert.Equal(@"'it\'s C:\\data'", Spark.Literal(@"it's C:\data"));
        Assert.Equal("'it''s'", DuckDbDialect.Instance.Literal("it's"));
        Assert.Equal("CAST(x AS STRING)", Spark.CastString("x"));
        Assert.Equal("CAST(x AS VARCHAR)", DuckDbDialect.Instance.CastString("x"));
    }

    [Fact]
    public void Spark_spells_time_argmax_and_concat_with_its_own_functions()
    {
        Assert.Equal("CAST(unix_micros(t) AS DOUBLE) / CAST(1000000 AS DOUBLE)", Spark.EpochSeconds("t"));
        Assert.Equal("min(named_struct('v', -(s), 'k', k)).k", Spark.ArgMax("k", "s"));
        Assert.Equal("concat_ws('', 'a', b)", Spark.Concat("'a'", "b"));
        Assert.Equal("concat('a', b)", DuckDbDialect.Instance.Concat("'a'", "b"));
    }

    [Fact]
    public void Spark_materialises_as_a_cached_temporary_view_and_duckdb_as_a_table()
    {
        Assert.Equal(["CREATE OR REPLACE TEMPORARY VIEW `t` AS\nSELECT 1", "CACHE TABLE `t` OPTIONS ('storageLevel' 'MEMORY_AND_DISK')"], Spark.Materialize("t", "SELECT 1"));
        Assert.Equal(["CREATE OR REPLACE TABLE \"t\" AS\nSELECT 1"], DuckDbDialect.Instance.Materialize("t", "SELECT 1"));
    }

    [Fact]
    public async Task Concat_treats_null_parts_as_empty_in_duckdb_as_in_spark()
    {
        await using var h = await OpenDuckDbAsync();
        var d = DuckDbDialect.Instance;
        var rows = await h.QueryAsync($"SELECT {d.Concat("'a'", "CAST(NULL AS VARCHAR)", "'b'")} AS c, {Spark.Concat("'a'", "CAST(NULL AS VARCHAR)", "'b'")} AS s", CancellationToken.None);
        Assert.Equal("ab", rows[0]["c"]);
        Assert.Equal("ab", rows[0]["s"]); // concat_ws('', …) is the same function in DuckDB
    }

    [Theory]
    [InlineData("1.5), (2.25", 3.75)]
    [InlineData("CAST(NULL AS DOUBLE)", null)]
    public async Task Spark_exact_sum_gives_the_decimal_sum_when_every_term_fits(string values, double? expected)
    {
        await using var h = await OpenDuckDbAsync();
        var rows = await h.QueryAsync($"SELECT {SparkFormOnDuckDb()} AS s FROM (VALUES ({values})) AS t(x)", CancellationToken.None);
        Assert.Equal(expected, rows[0]["s"] is null ? null : Convert.ToDouble(rows[0]["s"], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("CAST(1e21 AS DOUBLE)")]
    [InlineData("CAST('NaN' AS DOUBLE)")]
    public async Task Spark_exact_sum_raises_instead_of_skipping_a_term_that_does_not_fit(string value)
    {
        // Spark without ANSI turns a DECIMAL cast that overflows into NULL; DuckDB's TRY_CAST does the same, so the Spark
        // form's guard can be exercised here (raise_error is DuckDB's error). Spark itself was not run.
        await using var h = await OpenDuckDbAsync();
        var e = await Assert.ThrowsAsync<EngineException>(() => h.QueryAsync($"SELECT {SparkFormOnDuckDb()} AS s FROM (VALUES (CAST(1 AS DOUBLE)), ({value})) AS t(x)", CancellationToken.None));
        Assert.Contains("SparkReco ExactSum", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DuckDb_exact_sum_fails_on_overflow_rather_than_returning_null()
    {
        await using var h = await OpenDuckDbAsync();
        await Assert.ThrowsAsync<EngineException>(() => h.QueryAsync($"SELECT {DuckDbDialect.Instance.ExactSum("x")} AS s FROM (VALUES (CAST(1e21 AS DOUBLE))) AS t(x)", CancellationToken.None));
    }

    private static async Task<IEngine> OpenDuckDbAsync() =>
        await DuckDbEngine.OpenAsync(new SparkReco.Core.Configuration.EngineSettings("duckdb", 1, null, null), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None);

    private static string SparkFormOnDuckDb() =>
        Spark.ExactSum("x").Replace("CAST(x AS DECIMAL", "TRY_CAST(x AS DECIMAL", StringComparison.Ordinal).Replace("raise_error(", "error(", StringComparison.Ordinal);

    [Fact]
    public void A_feature_the_dialect_lacks_fails_at_render_time_naming_stage_and_feature()
    {
        var context = new StageContext(SparkReco.Core.Configuration.JobSettings.Read(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build()),
            Spark, DateTime.UnixEpoch, DateTime.UnixEpoch, hasItems: false, hasFollows: false);
        var e = Assert.Throws<SqlFeatureNotSupportedException>(() => PlanWriter.Render(new NeedsQualify(), context));
        Assert.Equal("needs_qualify", e.Stage);
        Assert.Equal(SqlFeature.Qualify, e.Feature);
        Assert.Contains("'spark' does not support Qualify", e.Message, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, e.ExitCode);

        var duck = new StageContext(context.Settings, DuckDbDialect.Instance, DateTime.UnixEpoch, DateTime.UnixEpoch, false, false);
        Assert.Single(PlanWriter.Render(new NeedsQualify(), duck));
    }

    [Fact]
    public void Spark_refuses_parameter_markers_when_they_are_rendered()
    {
        var e = Assert.Throws<SqlFeatureNotSupportedException>(() => Spark.Parameter("key"));
        Assert.Equal(SqlFeature.ParameterMarkers, e.Feature);
        Assert.Equal("$key", DuckDbDialect.Instance.Parameter("key"));
    }

    [Fact]
    public void Capability_tables_differ_where_the_engines_do()
    {
        Assert.Empty(Spark.Features);
        Assert.Equal(Enum.GetValues<SqlFeature>().ToHashSet(), DuckDbDialect.Instance.Features.ToHashSet());
    }

    private sealed class NeedsQualify : SqlStage
    {
        public override string Name => "needs_qualify";
        public override string Description => "test";
        public override IReadOnlyList<string> Inputs => [];

        public override string Render(StageContext context)
        {
            context.Dialect.Require(SqlFeature.Qualify, "top-N per group with QUALIFY");
            return "SELECT 1 QUALIFY true";
        }
    }
}
