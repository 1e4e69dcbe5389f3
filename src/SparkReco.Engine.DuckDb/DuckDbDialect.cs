using SparkReco.Core.Sql;

namespace SparkReco.Engine.DuckDb;

/// <summary>DuckDB's spelling of the dialect-specific pieces.</summary>
public sealed class DuckDbDialect : SqlDialectBase
{
    public static readonly DuckDbDialect Instance = new();

    public override string Name => "duckdb";

    public override string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>DuckDB's capability table: everything the job may ask for.</summary>
    public override IReadOnlySet<SqlFeature> Features { get; } = new HashSet<SqlFeature>
    {
        SqlFeature.ParameterMarkers,
        SqlFeature.Qualify,
        SqlFeature.SqlFunctions,
        SqlFeature.DoubleColonCast,
        SqlFeature.ReplaceTableAsSelect,
    };

    public override string StringType => "VARCHAR";

    public override IReadOnlyList<string> CreateParquetView(string name, ParquetSource source, Func<string, string> selectFrom)
    {
        ArgumentNullException.ThrowIfNull(selectFrom);
        return [CreateView(name, selectFrom(ReadParquet(source)))];
    }

    public override IReadOnlyList<string> Materialize(string table, string select) => [$"CREATE OR REPLACE TABLE {Quote(table)} AS\n{select}"];

    /// <summary>An empty table with these columns (how driver-made rows are appended into DuckDB); a TEMP table stays in memory, out of the database file and WAL.</summary>
    public string CreateEmptyTable(string table, IEnumerable<string> columnDefinitions, bool temporary = false) =>
        $"CREATE OR REPLACE {(temporary ? "TEMP " : "")}TABLE {Quote(table)} (\n    {string.Join(",\n    ", columnDefinitions)}\n)";

    public override string Concat(params string[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        return $"concat({string.Join(", ", parts)})"; // DuckDB's concat already skips NULLs
    }

    /// <summary>A table expression reading Parquet from a file or a folder (with Hive partitions).</summary>
    public string ReadParquet(ParquetSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        // A folder may hold part files or Hive partitions (dt=2026-11-01/part-0.parquet); union_by_name
        // tolerates part files whose optional columns differ.
        var hive = source.IsDirectory ? "true" : "false";
        if (source.Files is { Count: > 0 } files)
            return $"read_parquet([{string.Join(", ", files.Select(f => Literal(EscapeGlob(f))))}], hive_partitioning = {hive}, union_by_name = true)";
        var path = source.IsDirectory ? Path.Combine(EscapeGlob(source.Path), "**", "*.parquet") : EscapeGlob(source.Path);
        return $"read_parquet({Literal(path)}, hive_partitioning = {hive}, union_by_name = true)";
    }

    /// <summary>
    /// DuckDB expands <c>*</c>, <c>?</c> and <c>[…]</c> in every path it reads, so a folder named <c>ev[1]</c> would
    /// match <c>ev1</c>. Each such character becomes a one-character class that matches only itself.
    /// </summary>
    internal static string EscapeGlob(string path)
    {
        if (path.IndexOfAny(['*', '?', '[']) < 0) return path;
        var escaped = new System.Text.StringBuilder(path.Length + 8);
        foreach (var ch in path)
        {
            if (ch is '*' or '?' or '[') escaped.Append('[').Append(ch).Append(']');
            else escaped.Append(ch);
        }
        return escaped.ToString();
    }

    public override string EpochSeconds(string timestampExpression) =>
        $"CAST(epoch_us({timestampExpression}) AS DOUBLE) / CAST(1000000 AS DOUBLE)";

    public override string HmacSha256Hex(string innerPadHex, string outerPadHex, string message) =>
        $"sha256(unhex({outerPadHex}) || unhex(sha256(unhex({innerPadHex}) || encode({message}))))";

    public override string Parameter(string name) => "$" + name;

    // Parquet timestamps written UTC-adjusted (Spark's default) arrive as TIMESTAMP WITH TIME ZONE; a plain CAST
    // goes through ICU time-zone rules per row (10× slower). Both kinds are instants, so rebuild from epoch micros.
    public override string ToTimestamp(string expression) => $"make_timestamp(epoch_us({expression}))";

    public override int AggregateSlices => 8;

    public override string ArgMax(string key, string value) => $"struct_extract(min(struct_pack(v := -({value}), k := {key})), 'k')";

    public override string CreateView(string name, string select) => $"CREATE OR REPLACE VIEW {Quote(name)} AS\n{select}";
}
