using SparkReco.Core.Sql;

namespace SparkReco.Engine.Spark;

/// <summary>
/// Spark SQL's spelling of the dialect-specific pieces, for Spark 3.5 and 4.x (nothing newer than 3.5). Written from
/// Spark's documented grammar and function registry (<c>shared/data/spark-functions/</c>); not yet run on a Spark server.
/// </summary>
public sealed class SparkDialect : SqlDialectBase
{
    public static readonly SparkDialect Instance = new();

    public override string Name => "spark";

    /// <summary>
    /// Spark's capability table. Lacking: parameter markers (refused in view bodies and CACHE TABLE, which is every
    /// statement the job materialises), QUALIFY (4.2+), SQL functions (4.0+), <c>::</c> (4.0+), and
    /// CREATE OR REPLACE TABLE … AS on the default session catalog.
    /// </summary>
    public override IReadOnlySet<SqlFeature> Features { get; } = new HashSet<SqlFeature>();

    /// <summary>Backticks; a backtick inside a name is doubled. (<c>"x"</c> is a string literal in Spark.)</summary>
    public override string Quote(string identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        return "`" + identifier.Replace("`", "``", StringComparison.Ordinal) + "`";
    }

    /// <summary>
    /// Spark string literals take backslash escapes, and <c>'a''b'</c> is two adjacent literals (<c>ab</c>), not an
    /// escaped quote; so a backslash becomes <c>\\</c> and a quote <c>\'</c>.
    /// </summary>
    public override string Literal(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";
    }

    /// <summary>
    /// Two statements: the files as a temporary view (<c>USING parquet</c>: Hive partitions discovered, part files whose
    /// optional columns differ merged by name, files starting with <c>_</c> or <c>.</c> such as <c>_temporary/</c>
    /// skipped by Spark's listing), then the contract view over it.
    /// </summary>
    public override IReadOnlyList<string> CreateParquetView(string name, ParquetSource source, Func<string, string> selectFrom)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(selectFrom);
        var files = name + "_files";
        // A folder is read as a folder (Spark lists it itself); a single file by its own path.
        var path = !source.IsDirectory && source.Files is [var only] ? only : source.Path;
        return
        [
            $"CREATE OR REPLACE TEMPORARY VIEW {Quote(files)}\nUSING parquet\nOPTIONS (path {Literal(path)}, mergeSchema 'true')",
            CreateView(name, selectFrom(Quote(files))),
        ];
    }

    public override string CreateView(string name, string select) => $"CREATE OR REPLACE TEMPORARY VIEW {Quote(name)} AS\n{select}";

    /// <summary>
    /// A temporary view plus an eager <c>CACHE TABLE</c> (memory, spilling to executor disk): no storage location to
    /// configure or clean up, gone with the session. A cached block that is evicted is recomputed from the view's
    /// plan, which gives the same rows because every stage is deterministic (explicit as_of, exact sums, total-order
    /// tie-breaks). See DESIGN §3.
    /// </summary>
    public override IReadOnlyList<string> Materialize(string table, string select) =>
    [
        CreateView(table, select),
        $"CACHE TABLE {Quote(table)} OPTIONS ('storageLevel' 'MEMORY_AND_DISK')",
    ];

    public override string EpochSeconds(string timestampExpression) =>
        $"CAST(unix_micros({timestampExpression}) AS DOUBLE) / CAST(1000000 AS DOUBLE)";

    /// <summary>
    /// Parquet timestamps arrive as TIMESTAMP (UTC-adjusted) or TIMESTAMP_NTZ; the session time zone is pinned to UTC,
    /// so the cast gives the same instant DuckDB's <c>make_timestamp(epoch_us(x))</c> does.
    /// </summary>
    public override string ToTimestamp(string expression) => $"CAST({expression} AS TIMESTAMP)";

    /// <summary>
    /// DECIMAL(38, 18) like DuckDB, but checked: with ANSI mode off Spark turns a term that does not fit (|x| ≥ 1e20,
    /// NaN, ±∞) into NULL, which <c>sum</c> then skips, and an overflowing total into NULL — both silently. The form
    /// compares the counts of terms before and after the cast and the total against NULL, and raises instead.
    /// (A fixed-point BIGINT sum wraps silently on overflow with ANSI off and has a coarser grid, so it is not used.)
    /// </summary>
    public override string ExactSum(string expression)
    {
        var term = $"CAST({expression} AS DECIMAL(38, 18))";
        return $"CASE WHEN count({term}) = count({expression}) AND (count({expression}) = 0 OR sum({term}) IS NOT NULL) " +
               $"THEN CAST(sum({term}) AS DOUBLE) " +
               $"ELSE CAST(raise_error({Literal(ExactSumOverflowMessage)}) AS DOUBLE) END";
    }

    /// <summary>The error a Spark run raises when an exact sum does not fit DECIMAL(38, 18).</summary>
    public const string ExactSumOverflowMessage = "SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))";
}
