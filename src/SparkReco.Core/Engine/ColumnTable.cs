namespace SparkReco.Core.Engine;

/// <summary>The column types that travel between the driver and an engine in bulk.</summary>
public enum ColumnType
{
    /// <summary>32-bit integer (SQL INTEGER).</summary>
    Int32Bit,

    /// <summary>64-bit integer (SQL BIGINT).</summary>
    Int64Bit,

    /// <summary>IEEE double (SQL DOUBLE).</summary>
    Real,

    /// <summary>Text (SQL VARCHAR / STRING), nullable.</summary>
    Text,
}

/// <summary>
/// One column of a <see cref="ColumnTable"/>: its name, type and values (the first <c>RowCount</c> entries count); where
/// <paramref name="Nulls"/> is true the row holds NULL whatever the value says (numbers have no null of their own).
/// </summary>
public sealed record Column(string Name, ColumnType Type, Array Values, bool[]? Nulls = null)
{
    public static Column Of(string name, int[] values) => new(name, ColumnType.Int32Bit, values);
    public static Column Of(string name, long[] values) => new(name, ColumnType.Int64Bit, values);
    public static Column Of(string name, double[] values) => new(name, ColumnType.Real, values);
    public static Column Of(string name, string?[] values) => new(name, ColumnType.Text, values);
}

/// <summary>
/// A typed, columnar block of rows: what kernels read from an engine and hand back, and how small driver-made
/// tables travel. Arrays may be longer than <see cref="RowCount"/> (reused buffers); only the first rows count.
/// </summary>
public sealed class ColumnTable
{
    private readonly Dictionary<string, Column> _byName;

    public ColumnTable(int rowCount, IReadOnlyList<Column> columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rowCount);
        foreach (var column in columns)
        {
            if (column.Values.Length < rowCount)
                throw new ArgumentException($"Column '{column.Name}' holds {column.Values.Length} values, fewer than the {rowCount} rows.", nameof(columns));
        }
        RowCount = rowCount;
        Columns = columns;
        _byName = columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
    }

    public int RowCount { get; }
    public IReadOnlyList<Column> Columns { get; }

    public int[] Ints(string name) => Get<int[]>(name, ColumnType.Int32Bit);
    public long[] Longs(string name) => Get<long[]>(name, ColumnType.Int64Bit);
    public double[] Reals(string name) => Get<double[]>(name, ColumnType.Real);
    public string?[] Texts(string name) => Get<string?[]>(name, ColumnType.Text);

    private T Get<T>(string name, ColumnType type) where T : class
    {
        if (!_byName.TryGetValue(name, out var column))
            throw new KeyNotFoundException($"The result has no column '{name}' (it has {string.Join(", ", _byName.Keys)}).");
        if (column.Type != type)
            throw new InvalidCastException($"Column '{name}' is {column.Type}, not {type}.");
        return (T)(object)column.Values;
    }
}
