using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using SparkReco.Core.Engine;
using Column = SparkReco.Core.Engine.Column;
using Array = System.Array;

namespace SparkReco.Engine.Spark.Connect;

/// <summary>
/// Arrow IPC to and from the engine contract's shapes. Every <c>ArrowBatch.data</c> a server sends is a complete IPC
/// stream (schema message, record batch, end marker), so each is read on its own; LocalRelation data is one stream.
/// </summary>
internal static class ArrowConversion
{
    public static IEnumerable<RecordBatch> ReadStream(ReadOnlyMemory<byte> data)
    {
        using var reader = new ArrowStreamReader(data);
        while (reader.ReadNextRecordBatch() is { } batch) yield return batch;
    }

    /// <summary>Rows as dictionaries of .NET values, typed as the DuckDB engine returns them (long, double, string, DateTime, decimal, bool …).</summary>
    public static List<IReadOnlyDictionary<string, object?>> ToRows(IEnumerable<RecordBatch> batches)
    {
        var rows = new List<IReadOnlyDictionary<string, object?>>();
        foreach (var batch in batches)
        {
            var fields = batch.Schema.FieldsList;
            for (var r = 0; r < batch.Length; r++)
            {
                var row = new Dictionary<string, object?>(fields.Count, StringComparer.Ordinal);
                for (var c = 0; c < fields.Count; c++) row[fields[c].Name] = Value(batch.Column(c), r, fields[c].Name);
                rows.Add(row);
            }
            batch.Dispose();
        }
        return rows;
    }

    private static object? Value(IArrowArray array, int row, string name)
    {
        if (array.IsNull(row)) return null;
        return array switch
        {
            BooleanArray a => a.GetValue(row),
            Int8Array a => a.GetValue(row),
            Int16Array a => a.GetValue(row),
            Int32Array a => a.GetValue(row),
            Int64Array a => a.GetValue(row),
            FloatArray a => a.GetValue(row),
            DoubleArray a => a.GetValue(row),
            Decimal128Array a => a.GetValue(row),
            StringArray a => a.GetString(row),
            LargeStringArray a => a.GetString(row),
            BinaryArray a => a.GetBytes(row).ToArray(),
            Date32Array a => a.GetDateTime(row),
            // Spark sends TIMESTAMP as microseconds in the session time zone (pinned to UTC) and TIMESTAMP_NTZ without one.
            TimestampArray a => DateTime.SpecifyKind(a.GetTimestamp(row)!.Value.UtcDateTime, DateTimeKind.Utc),
            _ => throw new NotSupportedException($"Column '{name}' arrived as Arrow {array.Data.DataType.Name}, which SparkReco does not read; cast it in the query."),
        };
    }

    /// <summary>Every row as typed columns (INTEGER, BIGINT, DOUBLE, STRING), the same contract as the DuckDB engine's bulk read.</summary>
    public static ColumnTable ToColumns(IReadOnlyList<RecordBatch> batches, IReadOnlyList<(string Name, ColumnType Type)>? emptySchema)
    {
        var total = batches.Sum(b => b.Length);
        var schema = batches.Count > 0
            ? batches[0].Schema.FieldsList.Select(f => (f.Name, TypeOf(f))).ToList()
            : emptySchema?.ToList() ?? [];
        var columns = new List<Column>(schema.Count);
        for (var c = 0; c < schema.Count; c++)
        {
            var (name, type) = schema[c];
            Array values = type switch
            {
                ColumnType.Int32Bit => new int[total],
                ColumnType.Int64Bit => new long[total],
                ColumnType.Real => new double[total],
                _ => new string?[total],
            };
            var offset = 0;
            foreach (var batch in batches)
            {
                var array = batch.Column(c);
                for (var r = 0; r < batch.Length; r++)
                {
                    if (type != ColumnType.Text && array.IsNull(r))
                        throw new InvalidOperationException($"Column '{name}' holds NULL in row {offset + r}; bulk numeric reads need non-null values.");
                    switch (values)
                    {
                        case int[] v: v[offset + r] = ((Int32Array)array).GetValue(r)!.Value; break;
                        case long[] v: v[offset + r] = ((Int64Array)array).GetValue(r)!.Value; break;
                        case double[] v: v[offset + r] = ((DoubleArray)array).GetValue(r)!.Value; break;
                        case string?[] v: v[offset + r] = ((StringArray)array).GetString(r); break;
                    }
                }
                offset += batch.Length;
            }
            columns.Add(new Column(name, type, values));
        }
        return new ColumnTable(total, columns);
    }

    private static ColumnType TypeOf(Field field) => field.DataType switch
    {
        Int32Type => ColumnType.Int32Bit,
        Int64Type => ColumnType.Int64Bit,
        DoubleType => ColumnType.Real,
        StringType => ColumnType.Text,
        _ => throw new NotSupportedException($"Column '{field.Name}' is {field.DataType.Name}; bulk reads take INTEGER, BIGINT, DOUBLE or STRING (cast it in the query)."),
    };

    public static IArrowType ArrowType(ColumnType type) => type switch
    {
        ColumnType.Int32Bit => Int32Type.Default,
        ColumnType.Int64Bit => Int64Type.Default,
        ColumnType.Real => DoubleType.Default,
        ColumnType.Text => StringType.Default,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Blocks of driver-made rows as one Arrow IPC stream (LocalRelation.data); the schema names and types every column.</summary>
    public static async Task<(byte[] Data, long Rows)> WriteStreamAsync(IReadOnlyList<(string Name, ColumnType Type)> schema, IAsyncEnumerable<ColumnTable> blocks, CancellationToken ct)
    {
        var arrowSchema = new Schema.Builder();
        foreach (var (name, type) in schema) arrowSchema.Field(f => f.Name(name).DataType(ArrowType(type)).Nullable(true));
        var built = arrowSchema.Build();
        using var stream = new MemoryStream();
        long rows = 0;
        using (var writer = new ArrowStreamWriter(stream, built, leaveOpen: true))
        {
            var wrote = false;
            await foreach (var block in blocks.WithCancellation(ct))
            {
                var arrays = schema.Select(c => Build(block, c.Name, c.Type)).ToList();
                using var batch = new RecordBatch(built, arrays, block.RowCount);
                await writer.WriteRecordBatchAsync(batch, ct);
                rows += block.RowCount;
                wrote = true;
            }
            // An empty table still needs its schema on the wire: one batch of no rows.
            if (!wrote)
            {
                using var empty = new RecordBatch(built, schema.Select(c => Build(new ColumnTable(0, [EmptyColumn(c.Name, c.Type)]), c.Name, c.Type)).ToList(), 0);
                await writer.WriteRecordBatchAsync(empty, ct);
            }
            await writer.WriteEndAsync(ct);
        }
        return (stream.ToArray(), rows);
    }

    private static Column EmptyColumn(string name, ColumnType type) => type switch
    {
        ColumnType.Int32Bit => Column.Of(name, Array.Empty<int>()),
        ColumnType.Int64Bit => Column.Of(name, Array.Empty<long>()),
        ColumnType.Real => Column.Of(name, Array.Empty<double>()),
        _ => Column.Of(name, Array.Empty<string?>()),
    };

    private static IArrowArray Build(ColumnTable block, string name, ColumnType type)
    {
        var column = block.Columns.FirstOrDefault(c => c.Name == name)
            ?? throw new ArgumentException($"A block of rows has no column '{name}' (it has {string.Join(", ", block.Columns.Select(c => c.Name))}).");
        if (column.Type != type) throw new ArgumentException($"Column '{name}' is {column.Type} in a block but {type} in the schema.");
        var nulls = column.Nulls;
        bool IsNull(int r) => nulls?[r] == true;
        switch (column.Values)
        {
            case int[] v:
            {
                var b = new Int32Array.Builder();
                for (var r = 0; r < block.RowCount; r++) { if (IsNull(r)) b.AppendNull(); else b.Append(v[r]); }
                return b.Build();
            }
            case long[] v:
            {
                var b = new Int64Array.Builder();
                for (var r = 0; r < block.RowCount; r++) { if (IsNull(r)) b.AppendNull(); else b.Append(v[r]); }
                return b.Build();
            }
            case double[] v:
            {
                var b = new DoubleArray.Builder();
                for (var r = 0; r < block.RowCount; r++) { if (IsNull(r)) b.AppendNull(); else b.Append(v[r]); }
                return b.Build();
            }
            case string?[] v:
            {
                var b = new StringArray.Builder();
                for (var r = 0; r < block.RowCount; r++) { if (IsNull(r) || v[r] is null) b.AppendNull(); else b.Append(v[r]); }
                return b.Build();
            }
            default:
                throw new NotSupportedException($"Column '{name}' has an unsupported array type.");
        }
    }
}
