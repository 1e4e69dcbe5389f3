using System.Globalization;

namespace SparkReco.Core.Sql;

/// <summary>
/// Everything that differs between the engines' SQL. Stages write portable SQL and call these
/// for the rest; nothing user-supplied reaches SQL except through <see cref="Quote"/> and the
/// literal methods.
/// </summary>
public interface ISqlDialect
{
    string Name { get; }

    /// <summary>A quoted identifier (table or column name).</summary>
    string Quote(string identifier);

    string Literal(string value);

    /// <summary>A DOUBLE literal (a plain <c>0.25</c> would be DECIMAL in DuckDB).</summary>
    string Literal(double value);

    string Literal(long value);

    /// <summary>A UTC timestamp literal.</summary>
    string Timestamp(DateTime utc);

    /// <summary>
    /// What the engine can and cannot do (<see cref="SqlFeature"/>). SQL that needs a missing feature fails when it is
    /// rendered (<see cref="SqlDialectExtensions.Require"/>), never half-way through a run.
    /// </summary>
    IReadOnlySet<SqlFeature> Features { get; }

    /// <summary>The string type for casts and schemas (DuckDB <c>VARCHAR</c>, Spark <c>STRING</c>).</summary>
    string StringType { get; }

    /// <summary>
    /// Statements that define view <paramref name="name"/> over the Parquet files of <paramref name="source"/>:
    /// <paramref name="selectFrom"/> gets the table expression to read from and returns the view's <c>SELECT</c>.
    /// DuckDB reads the checked files with <c>read_parquet</c>; Spark registers the path as a temporary view
    /// (<c>USING parquet</c>) first.
    /// </summary>
    IReadOnlyList<string> CreateParquetView(string name, ParquetSource source, Func<string, string> selectFrom);

    /// <summary>
    /// Statements that materialise an intermediate table <paramref name="table"/> (replacing it) from <paramref name="select"/>:
    /// DuckDB a table; Spark a temporary view plus <c>CACHE TABLE</c> (DESIGN §3). Every stage goes through this.
    /// </summary>
    IReadOnlyList<string> Materialize(string table, string select);

    /// <summary>
    /// Text concatenation in which NULL parts count as empty strings, the same on every engine (DuckDB's
    /// <c>concat</c> skips NULLs, Spark's returns NULL; <c>concat_ws('', …)</c> skips them on both).
    /// </summary>
    string Concat(params string[] parts);

    /// <summary>Seconds since the Unix epoch of a timestamp expression, as DOUBLE.</summary>
    string EpochSeconds(string timestampExpression);

    /// <summary>Natural logarithm (DuckDB's <c>log</c> is base 10, Spark's is natural).</summary>
    string Ln(string expression);

    /// <summary>Lower-case hex MD5 of a string expression; identical in every engine, so samples and pseudonyms agree.</summary>
    string Md5(string expression);

    /// <summary>
    /// Lower-case hex HMAC-SHA256 of a string expression (its UTF-8 bytes) under a key given as its two padded blocks,
    /// K ⊕ ipad and K ⊕ opad, each a hex string expression (RFC 2104: H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m))). The driver
    /// prepares the pads and registers them as rows, so the key never appears in SQL text; the result is the same on every engine.
    /// </summary>
    string HmacSha256Hex(string innerPadHex, string outerPadHex, string message);

    /// <summary>A string expression as text, whatever the source type (ids may be integers).</summary>
    string CastString(string expression);

    /// <summary>A timestamp column (with or without time zone in the file) as a UTC TIMESTAMP.</summary>
    string ToTimestamp(string expression);

    /// <summary>A statement that defines <paramref name="name"/> as a session (temporary) view over <paramref name="select"/>.</summary>
    string CreateView(string name, string select);

    /// <summary>
    /// Sum of a DOUBLE expression that is the same bit for bit whatever order the engine adds rows in.
    /// Parallel engines combine partial double sums in scheduling order, so a plain <c>sum</c> can differ in
    /// the last bits between two runs (and flip a tie-break); DECIMAL sums are exact. Terms and totals
    /// must stay below 1e20 in magnitude; they are rounded to 18 decimals. Beyond that the sum fails on every engine
    /// (DuckDB raises on DECIMAL overflow; Spark without ANSI would give NULL, so its form checks and raises).
    /// </summary>
    string ExactSum(string expression);

    /// <summary>Mean of a DOUBLE expression (NULLs ignored), as order-independent as <see cref="ExactSum"/>.</summary>
    string ExactAvg(string expression);

    /// <summary>
    /// Aggregate: the <paramref name="key"/> of the row with the largest <paramref name="value"/>, the lowest key on ties,
    /// in one pass (the minimum of the pair (−value, key)), so no window sort over every row is needed.
    /// </summary>
    string ArgMax(string key, string value);

    /// <summary>
    /// How many slices the largest aggregates (pair self-joins, candidate sums) are split into, each slice a subset of the
    /// grouping's first key (modulo), joined with UNION ALL. On one machine several smaller hash tables beat one of tens
    /// of millions of groups (DuckDB, 1M events: the neighbour aggregate of 31M groups 10.1 s in one slice, 7.0 s in
    /// eight; the user-based sums 6.4 s against 4.8 s); on a cluster each slice would be one more shuffle, so 1.
    /// </summary>
    int AggregateSlices { get; }

    /// <summary>
    /// A named parameter marker. Needs <see cref="SqlFeature.ParameterMarkers"/>: Spark refuses markers in view bodies and
    /// <c>CACHE TABLE</c>, which is every statement it materialises, so no stage uses one: small driver-made values travel
    /// as rows (<c>IEngine.WriteTableAsync</c>).
    /// </summary>
    string Parameter(string name);
}

/// <summary>SQL features that some engines lack. Each dialect lists the ones it has (its capability table).</summary>
public enum SqlFeature
{
    /// <summary>Named parameter markers in the statements a stage runs (DuckDB yes; Spark refuses them in view bodies and CACHE TABLE).</summary>
    ParameterMarkers,

    /// <summary><c>QUALIFY</c> to filter on window functions (DuckDB yes; Spark only from 4.2).</summary>
    Qualify,

    /// <summary>SQL user-defined functions, <c>CREATE FUNCTION … RETURN</c> (DuckDB macros; Spark only from 4.0).</summary>
    SqlFunctions,

    /// <summary><c>::</c> casts (DuckDB yes; Spark only from 4.0).</summary>
    DoubleColonCast,

    /// <summary>Persistent tables from <c>CREATE OR REPLACE TABLE … AS</c> in the session catalog (DuckDB yes; Spark's default catalog refuses it for file tables, so Spark materialises as cached temporary views).</summary>
    ReplaceTableAsSelect,
}

/// <summary>An engine's dialect lacks a feature the SQL being rendered needs.</summary>
public sealed class SqlFeatureNotSupportedException : SparkReco.Core.Errors.SparkRecoException
{
    public SqlFeatureNotSupportedException(string dialect, SqlFeature feature, string usage)
        : base($"engine '{dialect}' does not support {feature} ({usage}).")
    {
        Dialect = dialect;
        Feature = feature;
        Usage = usage;
    }

    public string Dialect { get; }
    public SqlFeature Feature { get; }
    public string Usage { get; }

    // A job that needs what the configured engine lacks is a configuration problem (choose another engine).
    public override int ExitCode => SparkReco.Core.Errors.ExitCodes.Usage;
}

public static class SqlDialectExtensions
{
    /// <summary>Fails at render time when <paramref name="dialect"/> lacks <paramref name="feature"/>; <paramref name="usage"/> says what needed it.</summary>
    public static void Require(this ISqlDialect dialect, SqlFeature feature, string usage)
    {
        ArgumentNullException.ThrowIfNull(dialect);
        if (!dialect.Features.Contains(feature)) throw new SqlFeatureNotSupportedException(dialect.Name, feature, usage);
    }

    public static bool Supports(this ISqlDialect dialect, SqlFeature feature)
    {
        ArgumentNullException.ThrowIfNull(dialect);
        return dialect.Features.Contains(feature);
    }
}

/// <summary>A Parquet input: one file, or a folder of part files / Hive-style partitions.</summary>
/// <param name="Path">The file or folder the user named (for messages and Hive partition discovery).</param>
/// <param name="IsDirectory">True for a folder of part files or Hive partitions.</param>
/// <param name="Files">
/// The exact files the input check read, when known. The engine reads these and nothing else, so what was
/// checked is what is computed on (no glob that also picks up <c>_temporary/</c> or hidden files, and no
/// glob characters in the path matching a sibling folder).
/// </param>
public sealed record ParquetSource(string Path, bool IsDirectory, IReadOnlyList<string>? Files = null);

/// <summary>The parts of SQL that are the same in DuckDB and Spark SQL.</summary>
public abstract class SqlDialectBase : ISqlDialect
{
    public abstract string Name { get; }
    public abstract string Quote(string identifier);
    public abstract IReadOnlySet<SqlFeature> Features { get; }
    public virtual string StringType => "STRING";
    public abstract IReadOnlyList<string> CreateParquetView(string name, ParquetSource source, Func<string, string> selectFrom);
    public abstract IReadOnlyList<string> Materialize(string table, string select);
    public abstract string EpochSeconds(string timestampExpression);

    public virtual string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    public string Literal(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
            throw new ArgumentOutOfRangeException(nameof(value), value, "SQL literals must be finite.");
        return $"CAST({value.ToString("R", CultureInfo.InvariantCulture)} AS DOUBLE)";
    }

    public string Literal(long value) => value.ToString(CultureInfo.InvariantCulture);

    public virtual string Timestamp(DateTime utc) =>
        $"TIMESTAMP '{utc.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)}'";

    public virtual string Ln(string expression) => $"ln({expression})";
    public virtual string Md5(string expression) => $"md5({expression})";

    // Spark spelling: sha2 of binary, binary concat, encode to UTF-8 bytes.
    public virtual string HmacSha256Hex(string innerPadHex, string outerPadHex, string message) =>
        $"sha2(concat(unhex({outerPadHex}), unhex(sha2(concat(unhex({innerPadHex}), encode({message}, 'UTF-8')), 256))), 256)";
    public string CastString(string expression) => $"CAST({expression} AS {StringType})";
    public virtual string ToTimestamp(string expression) => $"CAST({expression} AS TIMESTAMP)";
    public abstract string CreateView(string name, string select);
    public virtual string Parameter(string name)
    {
        this.Require(SqlFeature.ParameterMarkers, $"parameter marker '{name}'");
        return ":" + name;
    }

    public virtual string Concat(params string[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        return $"concat_ws('', {string.Join(", ", parts)})";
    }

    // Spark spelling; structs compare field by field in both engines.
    public virtual string ArgMax(string key, string value) => $"min(named_struct('v', -({value}), 'k', {key})).k";

    public virtual int AggregateSlices => 1;

    public virtual string ExactSum(string expression) => $"CAST(sum(CAST({expression} AS DECIMAL(38, 18))) AS DOUBLE)";

    public virtual string ExactAvg(string expression) =>
        $"{ExactSum(expression)} / CAST(nullif(count({expression}), 0) AS DOUBLE)";
}
