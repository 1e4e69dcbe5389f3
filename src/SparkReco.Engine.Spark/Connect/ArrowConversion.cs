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
        var (chunks, rows) = await WriteChunksAsync(schema, blocks, long.MaxValue, ct);
        return (chunks[0], rows);
    }

    /// <summary>
    /// Blocks of driver-made rows as Arrow IPC streams of about <paramref name="chunkBytes"/> each (estimated from the values:
    /// 4 or 8 bytes per number, UTF-8 bytes plus an offset per string), in row order, so that no single request carries
    /// more than the server accepts (Spark Connect's inbound limit is 128 MB by default). A row larger than the budget is a
    /// chunk of its own. There is always at least one chunk: an empty table still needs its schema on the wire.
    /// </summary>
    public static async Task<(IReadOnlyList<byte[]> Chunks, long Rows)> WriteChunksAsync(IReadOnlyList<(string Name, ColumnType Type)> schema, IAsyncEnumerable<ColumnTable> blocks, long chunkBytes, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkBytes);
        var arrowSchema = new Schema.Builder();
        foreach (var (name, type) in schema) arrowSchema.Field(f => f.Name(name).DataType(ArrowType(type)).Nullable(true));
        var built = arrowSchema.Build();
        var chunks = new List<byte[]>();
        long rows = 0;
        MemoryStream? stream = null;
        ArrowStreamWriter? writer = null;
        long estimate = 0;

        async Task AppendAsync(ColumnTable block, int start, int count)
        {
            if (writer is null)
            {
                stream = new MemoryStream();
                writer = new ArrowStreamWriter(stream, built, leaveOpen: true);
            }
            using var batch = new RecordBatch(built, schema.Select(c => Build(block, c.Name, c.Type, start, count)).ToList(), count);
            await writer.WriteRecordBatchAsync(batch, ct);
        }

        async Task CloseAsync()
        {
            if (writer is null) return;
            await writer.WriteEndAsync(ct);
            writer.Dispose();
            chunks.Add(stream!.ToArray());
            await stream.DisposeAsync();
            (writer, stream, estimate) = (null, null, 0);
        }

        await foreach (var block in blocks.WithCancellation(ct))
        {
            var columns = schema.Select(c => Find(block, c.Name, c.Type)).ToList();
            var start = 0;
            for (var r = 0; r < block.RowCount; r++)
            {
                var size = RowBytes(columns, r);
                // The chunk holds rows already (written or pending) and this one would pass the budget: close it first.
                if (estimate > 0 && estimate + size > chunkBytes)
                {
                    if (r > start) await AppendAsync(block, start, r - start);
                    await CloseAsync();
                    start = r;
                }
                estimate += size;
            }
            if (block.RowCount > start) await AppendAsync(block, start, block.RowCount - start);
            rows += block.RowCount;
        }
        if (chunks.Count == 0 && writer is null)
        {
            var empty = new ColumnTable(0, schema.Select(c => EmptyColumn(c.Name, c.Type)).ToList());
            await AppendAsync(empty, 0, 0);
        }
        await CloseAsync();
        return (chunks, rows);
    }

    /// <summary>The budget's estimate of one row: what its values take in Arrow buffers (validity bits and padding aside).</summary>
    private static long RowBytes(IReadOnlyList<Column> columns, int row)
    {
        long size = 0;
        foreach (var column in columns)
        {
            size += column.Values switch
            {
                int[] => 4,
                long[] or double[] => 8,
                string?[] v => 4 + (v[row] is { } text ? System.Text.Encoding.UTF8.GetByteCount(text) : 0),
                _ => 8,
            };
        }
        return size;
    }

    private static Column EmptyColumn(string name, ColumnType type) => type switch
    {
        ColumnType.Int32Bit => Column.Of(name, Array.Empty<int>()),
        ColumnType.Int64Bit => Column.Of(name, Array.Empty<long>()),
        ColumnType.Real => Column.Of(name, Array.Empty<double>()),
        _ => Column.Of(name, Array.Empty<string?>()),
    };

    private static Column Find(ColumnTable block, string name, ColumnType type)
    {
        var column = block.Columns.FirstOrDefault(c => c.Name == name)
            ?? throw new ArgumentException($"A block of rows has no column '{name}' (it has {string.Join(", ", block.Columns.Select(c => c.Name))}).");
        if (column.Type != type) throw new ArgumentException($"Column '{name}' is {column.Type} in a block but {type} in the schema.");
        return column;
    }

    /// <summary>Rows <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> of a block's column as an Arrow array.</summary>
    private static IArrowArray Build(ColumnTable block, string name, ColumnType type, int start, int count)
    {
        var column = Find(block, name, type);
        var nulls = column.Nulls;
        var end = start + count;
        bool IsNull(int r) => nulls?[r] == true;
        switch (column.Values)
        {
            case int[] v:
            {
                var b = new Int32Array.Builder();
                for (var r = start; r < end; r++) { if (IsNull(r)) b.AppendNull(); else b.Append(v[r]); }
                return b.Build();
            }
            case long[] v:
            {
                var b = new Int64Array.Builder();
                for (var r = start; r < end; r++) { if (IsNull(r)) b.AppendNull(); else b.Append(v[r]); }
                return b.Build();
            }
            case double[] v:
            {
                var b = new DoubleArray.Builder();
                for (var r = start; r < end; r++) { if (IsNull(r)) b.AppendNull(); else b.Append(v[r]); }
                return b.Build();
            }
            case string?[] v:
            {
                var b = new StringArray.Builder();
                for (var r = start; r < end; r++) { if (IsNull(r) || v[r] is null) b.AppendNull(); else b.Append(v[r]); }
                return b.Build();
            }
            default:
                throw new NotSupportedException($"Column '{name}' has an unsupported array type.");
        }
    }
}
