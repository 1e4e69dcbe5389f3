using Apache.Arrow;
using Apache.Arrow.Types;
using SparkReco.Core.Engine;
using Column = SparkReco.Core.Engine.Column;

namespace SparkReco.Spark.Tests.Support;

/// <summary>Recorded engine answers as the Arrow batches a Spark server would send (split into several batches, as Spark does).</summary>
internal static class AnswerArrow
{
    private const int RowsPerBatch = 256;

    public static IReadOnlyList<byte[]> Batches(EngineAnswer answer) => answer switch
    {
        EngineAnswer.Count c => [ArrowIpc.Stream(("n", ArrowIpc.Longs(c.Value)))],
        EngineAnswer.Rows r => FromRows(r.Values),
        EngineAnswer.Columns c => FromColumns(c.Table),
        _ => throw new ArgumentOutOfRangeException(nameof(answer)),
    };

    private static List<byte[]> FromRows(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows)
    {
        if (rows.Count == 0) return [ArrowIpc.Stream()];
        var names = rows[0].Keys.ToList();
        var batches = new List<byte[]>();
        for (var start = 0; start < rows.Count; start += RowsPerBatch)
        {
            var slice = rows.Skip(start).Take(RowsPerBatch).ToList();
            batches.Add(ArrowIpc.Stream(names.Select(n => (n, Array(n, rows.Select(r => r[n]).FirstOrDefault(v => v is not null), slice.Select(r => r[n]).ToList()))).ToArray()));
        }
        return batches;
    }

    /// <summary>An Arrow array of the type the column's first non-null value has (a column of NULLs travels as STRING).</summary>
    private static IArrowArray Array(string name, object? sample, IReadOnlyList<object?> values)
    {
        switch (sample)
        {
            case null or string:
                return ArrowIpc.Strings(values.Select(v => (string?)v).ToArray());
            case long:
                return ArrowIpc.Longs(values.Select(v => (long?)v).ToArray());
            case int:
                return ArrowIpc.Ints(values.Select(v => (int?)v).ToArray());
            case double:
                return ArrowIpc.Doubles(values.Select(v => (double?)v).ToArray());
            case float:
            {
                var b = new FloatArray.Builder();
                foreach (var v in values) { if (v is null) b.AppendNull(); else b.Append((float)v); }
                return b.Build();
            }
            case bool:
            {
                var b = new BooleanArray.Builder();
                foreach (var v in values) { if (v is null) b.AppendNull(); else b.Append((bool)v); }
                return b.Build();
            }
            case short:
            {
                var b = new Int16Array.Builder();
                foreach (var v in values) { if (v is null) b.AppendNull(); else b.Append((short)v); }
                return b.Build();
            }
            case sbyte:
            {
                var b = new Int8Array.Builder();
                foreach (var v in values) { if (v is null) b.AppendNull(); else b.Append((sbyte)v); }
                return b.Build();
            }
            case decimal:
            {
                var b = new Decimal128Array.Builder(new Decimal128Type(38, 18));
                foreach (var v in values) { if (v is null) b.AppendNull(); else b.Append((decimal)v); }
                return b.Build();
            }
            case DateTime:
                return ArrowIpc.Timestamps(values.Select(v => v is DateTime t ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : (DateTime?)null).ToArray());
            default:
                throw new NotSupportedException($"Column '{name}' holds {sample.GetType().Name}, which the record-mode server cannot send as Arrow yet.");
        }
    }

    private static List<byte[]> FromColumns(ColumnTable table)
    {
        var batches = new List<byte[]>();
        for (var start = 0; start == 0 || start < table.RowCount; start += RowsPerBatch)
        {
            var count = Math.Min(RowsPerBatch, table.RowCount - start);
            batches.Add(ArrowIpc.Stream(table.Columns.Select(c => (c.Name, Slice(c, start, count))).ToArray()));
        }
        return batches;
    }

    private static IArrowArray Slice(Column column, int start, int count)
    {
        bool Null(int r) => column.Nulls?[r] == true;
        return column.Values switch
        {
            int[] v => ArrowIpc.Ints(Enumerable.Range(start, count).Select(r => Null(r) ? null : (int?)v[r]).ToArray()),
            long[] v => ArrowIpc.Longs(Enumerable.Range(start, count).Select(r => Null(r) ? null : (long?)v[r]).ToArray()),
            double[] v => ArrowIpc.Doubles(Enumerable.Range(start, count).Select(r => Null(r) ? null : (double?)v[r]).ToArray()),
            string?[] v => ArrowIpc.Strings(Enumerable.Range(start, count).Select(r => Null(r) ? null : v[r]).ToArray()),
            _ => throw new NotSupportedException(column.Name),
        };
    }
}
