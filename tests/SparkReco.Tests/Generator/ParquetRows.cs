using Parquet;

namespace SparkReco.Tests;

/// <summary>Reads Parquet files back into plain rows so tests check what was written, not how.</summary>
internal static class ParquetRows
{
    /// <summary>Column names in file order.</summary>
    public static async Task<IReadOnlyList<string>> ColumnsAsync(string path)
    {
        var schema = await ParquetReader.ReadSchemaAsync(path);
        return [.. schema.DataFields.Select(f => f.Name)];
    }

    /// <summary>All rows of the files, in order, each as an array of boxed values in schema order.</summary>
    public static async Task<List<object?[]>> ReadAsync(params IEnumerable<string> paths)
    {
        var rows = new List<object?[]>();
        foreach (var path in paths)
        {
            await using var reader = await ParquetReader.CreateAsync(path);
            var fields = reader.Schema.DataFields;
            for (var g = 0; g < reader.RowGroupCount; g++)
            {
                var group = reader.OpenRowGroupReader(g);
                var count = (int)group.RowCount;
                var columns = new object?[fields.Length][];
                for (var c = 0; c < fields.Length; c++)
                {
                    columns[c] = await ReadColumnAsync(group, fields[c], count);
                }

                for (var r = 0; r < count; r++)
                {
                    var row = new object?[fields.Length];
                    for (var c = 0; c < fields.Length; c++)
                    {
                        row[c] = columns[c][r];
                    }

                    rows.Add(row);
                }
            }
        }

        return rows;
    }

    /// <summary>Rows of every <c>part-*.parquet</c> in a table folder, parts in name order.</summary>
    public static Task<List<object?[]>> ReadTableAsync(string directory) =>
        ReadAsync(Directory.GetFiles(directory, "part-*.parquet").Order(StringComparer.Ordinal));

    private static async Task<object?[]> ReadColumnAsync(ParquetRowGroupReader group, Parquet.Schema.DataField field, int count)
    {
        var type = field.ClrType;
        if (type == typeof(string) || type == typeof(ReadOnlyMemory<char>))
        {
            var values = new string?[count];
            await group.ReadAsync(field, values.AsMemory());
            return values;
        }

        if (type == typeof(DateTime))
        {
            return await ReadStructAsync<DateTime>(group, field, count);
        }

        if (type == typeof(double))
        {
            return await ReadStructAsync<double>(group, field, count);
        }

        if (type == typeof(int))
        {
            return await ReadStructAsync<int>(group, field, count);
        }

        if (type == typeof(bool))
        {
            return await ReadStructAsync<bool>(group, field, count);
        }

        throw new NotSupportedException($"Test reader does not handle {type} ({field.Name}).");
    }

    private static async Task<object?[]> ReadStructAsync<T>(ParquetRowGroupReader group, Parquet.Schema.DataField field, int count)
        where T : struct
    {
        if (field.IsNullable)
        {
            var nullable = new T?[count];
            await group.ReadAsync<T>(field, nullable.AsMemory());
            return [.. nullable.Select(v => (object?)v)];
        }

        var values = new T[count];
        await group.ReadAsync<T>(field, values.AsMemory());
        return [.. values.Select(v => (object?)v)];
    }
}
