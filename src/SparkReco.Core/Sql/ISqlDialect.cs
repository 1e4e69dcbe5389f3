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

    /// <summary>A table expression reading Parquet from a file or a folder (with Hive partitions).</summary>
    string ReadParquet(ParquetSource source);

    /// <summary>Seconds since the Unix epoch of a timestamp expression, as DOUBLE.</summary>
    string EpochSeconds(string timestampExpression);

    /// <summary>Natural logarithm (DuckDB's <c>log</c> is base 10, Spark's is natural).</summary>
    string Ln(string expression);

    /// <summary>Lower-case hex MD5 of a string expression; identical in every engine, so samples and pseudonyms agree.</summary>
    string Md5(string expression);

    /// <summary>A string expression as text, whatever the source type (ids may be integers).</summary>
    string CastString(string expression);

    /// <summary>A timestamp column (with or without time zone in the file) as a UTC TIMESTAMP.</summary>
    string ToTimestamp(string expression);

    /// <summary>A statement that defines <paramref name="name"/> as a session view over <paramref name="select"/>.</summary>
    string CreateView(string name, string select);

    /// <summary>
    /// Sum of a DOUBLE expression that is the same bit for bit whatever order the engine adds rows in.
    /// Parallel engines combine partial double sums in scheduling order, so a plain <c>sum</c> can differ in
    /// the last bits between two runs (and flip a tie-break); DECIMAL sums are exact. Terms and totals
    /// must stay below 1e20 in magnitude; they are rounded to 18 decimals.
    /// </summary>
    string ExactSum(string expression);

    /// <summary>Mean of a DOUBLE expression (NULLs ignored), as order-independent as <see cref="ExactSum"/>.</summary>
    string ExactAvg(string expression);

    /// <summary>
    /// Aggregate: the <paramref name="key"/> of the row with the largest <paramref name="value"/>, the lowest key on ties,
    /// in one pass (the minimum of the pair (−value, key)), so no window sort over every row is needed.
    /// </summary>
    string ArgMax(string key, string value);

    /// <summary>A named parameter marker bound by <c>IEngine.ExecuteAsync(sql, parameters, …)</c> (Spark: <c>:name</c>).</summary>
    string Parameter(string name);
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
    public abstract string ReadParquet(ParquetSource source);
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
    public virtual string CastString(string expression) => $"CAST({expression} AS STRING)";
    public virtual string ToTimestamp(string expression) => $"CAST({expression} AS TIMESTAMP)";
    public abstract string CreateView(string name, string select);
    public virtual string Parameter(string name) => ":" + name;

    // Spark spelling; structs compare field by field in both engines.
    public virtual string ArgMax(string key, string value) => $"min(named_struct('v', -({value}), 'k', {key})).k";

    public virtual string ExactSum(string expression) => $"CAST(sum(CAST({expression} AS DECIMAL(38, 18))) AS DOUBLE)";

    public virtual string ExactAvg(string expression) =>
        $"CAST(sum(CAST({expression} AS DECIMAL(38, 18))) AS DOUBLE) / CAST(nullif(count({expression}), 0) AS DOUBLE)";
}
