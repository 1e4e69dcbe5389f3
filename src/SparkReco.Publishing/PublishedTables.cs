using Parquet;
using Parquet.Schema;
using SparkReco.Core.Errors;

namespace SparkReco.Publishing;

/// <summary>
/// Describes the tables a run wrote, for the manifest, from what is on disk rather than from what the stages
/// reported: rows from the Parquet footers, bytes from the file sizes, and the schema a reader will see.
/// </summary>
public static class PublishedTables
{
    /// <summary>Reads the footers of <c>&lt;folder&gt;/&lt;table&gt;/*.parquet</c> for each table (no data pages).</summary>
    public static async Task<IReadOnlyDictionary<string, ManifestTable>> DescribeAsync(string folder, IEnumerable<string> tables, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tables);
        var described = new SortedDictionary<string, ManifestTable>(StringComparer.Ordinal);
        foreach (var table in tables) described[table] = await DescribeTableAsync(folder, table, ct);
        return described;
    }

    private static async Task<ManifestTable> DescribeTableAsync(string folder, string table, CancellationToken ct)
    {
        var directory = Path.Combine(folder, table);
        // Spark leaves _SUCCESS and .crc files beside its part files; only the Parquet files are the table.
        var files = Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "*.parquet", SearchOption.AllDirectories)
                .Where(f => !Path.GetFileName(f).StartsWith('.') && !Path.GetFileName(f).StartsWith('_'))
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];
        if (files.Count == 0)
            throw new PublishException($"Table '{table}' has no Parquet file in '{directory}' after it was written; the engine did not write where this job reads. The previous outputs are unchanged.");
        long rows = 0, bytes = 0;
        IReadOnlyList<ManifestColumn>? schema = null;
        foreach (var file in files)
        {
            ct.ThrowIfCancellationRequested();
            await using var stream = File.OpenRead(file);
            await using var reader = await ParquetReader.CreateAsync(stream, cancellationToken: ct);
            for (var i = 0; i < reader.RowGroupCount; i++) rows += reader.OpenRowGroupReader(i).RowCount;
            bytes += stream.Length;
            // Part files of one table share a schema (one engine statement wrote them); the first one speaks for all.
            schema ??= reader.Schema.Fields.Select(f => new ManifestColumn(f.Name, Describe(f))).ToList();
        }
        return new ManifestTable(table, rows, bytes, schema!);
    }

    /// <summary>A Parquet field's type as a reader sees it: <c>string</c>, <c>int64</c>, <c>double</c>, <c>timestamp</c>, <c>list&lt;…&gt;</c>, <c>struct&lt;name: …&gt;</c>, …</summary>
    public static string Describe(Field field) => field switch
    {
        DataField data => DescribeClr(data.ClrType),
        ListField list => $"list<{Describe(list.Item)}>",
        MapField map => $"map<{Describe(map.Key)}, {Describe(map.Value)}>",
        StructField s => $"struct<{string.Join(", ", s.Fields.Select(f => $"{f.Name}: {Describe(f)}"))}>",
        _ => field.SchemaType.ToString().ToLowerInvariant(),
    };

    private static string DescribeClr(Type type) =>
        type == typeof(string) || type == typeof(ReadOnlyMemory<char>) ? "string"
        : type == typeof(long) ? "int64"
        : type == typeof(int) ? "int32"
        : type == typeof(short) ? "int16"
        : type == typeof(sbyte) ? "int8"
        : type == typeof(ulong) ? "uint64"
        : type == typeof(uint) ? "uint32"
        : type == typeof(double) ? "double"
        : type == typeof(float) ? "float"
        : type == typeof(bool) ? "boolean"
        : type == typeof(decimal) ? "decimal"
        : type == typeof(DateTime) || type == typeof(DateTimeOffset) ? "timestamp"
        : type == typeof(DateOnly) ? "date"
        : type == typeof(byte[]) ? "binary"
        : type.Name.ToLowerInvariant();
}
