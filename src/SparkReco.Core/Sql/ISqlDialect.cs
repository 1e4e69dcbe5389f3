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

    /// <summary>
    /// Sum of DOUBLE values (an aggregate, not a window function) that adds the values in a fixed order (ascending
    /// value), so the result does not depend on the order parallel workers deliver the rows and reruns give identical
    /// bits. (A plain <c>sum</c> of doubles can differ in the last bit from run to run.) DuckDB: an ordered aggregate;
    /// Spark SQL can spell it <c>aggregate(array_sort(collect_list(x)), CAST(0 AS DOUBLE), (acc, v) -&gt; acc + v)</c>.
    /// </summary>
    string SumDouble(string expression);
}

/// <summary>A Parquet input: one file, or a folder of part files / Hive-style partitions.</summary>
public sealed record ParquetSource(string Path, bool IsDirectory);

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
    public virtual string SumDouble(string expression) => $"sum({expression})";
}
