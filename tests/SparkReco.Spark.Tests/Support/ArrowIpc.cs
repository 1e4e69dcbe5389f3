using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;

namespace SparkReco.Spark.Tests.Support;

/// <summary>Arrow IPC streams as a Spark server sends them (one complete stream per ArrowBatch), and back.</summary>
internal static class ArrowIpc
{
    public static byte[] Stream(params (string Name, IArrowArray Values)[] columns)
    {
        var schema = new Schema.Builder();
        foreach (var (name, values) in columns) schema.Field(f => f.Name(name).DataType(values.Data.DataType).Nullable(true));
        var built = schema.Build();
        var length = columns.Length == 0 ? 0 : columns[0].Values.Length;
        using var batch = new RecordBatch(built, columns.Select(c => c.Values), length);
        using var stream = new MemoryStream();
        using (var writer = new ArrowStreamWriter(stream, built, leaveOpen: true))
        {
            writer.WriteRecordBatch(batch);
            writer.WriteEnd();
        }
        return stream.ToArray();
    }

    public static long RowCount(byte[] data)
    {
        long rows = 0;
        using var reader = new ArrowStreamReader(new MemoryStream(data));
        while (reader.ReadNextRecordBatch() is { } batch)
        {
            rows += batch.Length;
            batch.Dispose();
        }
        return rows;
    }

    /// <summary>Every row of a stream as boxed values by column name (what a test compares with the rows it sent).</summary>
    public static List<Dictionary<string, object?>> Rows(ReadOnlyMemory<byte> data)
    {
        var rows = new List<Dictionary<string, object?>>();
        using var reader = new ArrowStreamReader(data);
        while (reader.ReadNextRecordBatch() is { } batch)
        {
            for (var r = 0; r < batch.Length; r++)
            {
                var row = new Dictionary<string, object?>(StringComparer.Ordinal);
                for (var c = 0; c < batch.ColumnCount; c++)
                {
                    var array = batch.Column(c);
                    row[batch.Schema.GetFieldByIndex(c).Name] = array.IsNull(r) ? null : array switch
                    {
                        Int32Array a => a.GetValue(r),
                        Int64Array a => a.GetValue(r),
                        DoubleArray a => a.GetValue(r),
                        StringArray a => a.GetString(r),
                        _ => throw new NotSupportedException(array.Data.DataType.Name),
                    };
                }
                rows.Add(row);
            }
            batch.Dispose();
        }
        return rows;
    }

    public static Int64Array Longs(params long?[] values)
    {
        var b = new Int64Array.Builder();
        foreach (var v in values) { if (v is null) b.AppendNull(); else b.Append(v.Value); }
        return b.Build();
    }

    public static Int32Array Ints(params int?[] values)
    {
        var b = new Int32Array.Builder();
        foreach (var v in values) { if (v is null) b.AppendNull(); else b.Append(v.Value); }
        return b.Build();
    }

    public static DoubleArray Doubles(params double?[] values)
    {
        var b = new DoubleArray.Builder();
        foreach (var v in values) { if (v is null) b.AppendNull(); else b.Append(v.Value); }
        return b.Build();
    }

    public static StringArray Strings(params string?[] values)
    {
        var b = new StringArray.Builder();
        foreach (var v in values) { if (v is null) b.AppendNull(); else b.Append(v); }
        return b.Build();
    }

    /// <summary>TIMESTAMP as Spark sends it: microseconds, in the session time zone (UTC).</summary>
    public static TimestampArray Timestamps(params DateTime?[] values)
    {
        var b = new TimestampArray.Builder(new TimestampType(TimeUnit.Microsecond, "UTC"));
        foreach (var v in values) { if (v is null) b.AppendNull(); else b.Append(new DateTimeOffset(v.Value, TimeSpan.Zero)); }
        return b.Build();
    }
}
