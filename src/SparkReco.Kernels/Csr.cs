namespace SparkReco.Kernels;

/// <summary>
/// A compressed sparse row matrix: the entries of row r are at [Offsets[r], Offsets[r + 1]) of
/// <see cref="Columns"/> and <see cref="Values"/>, in the order they were added (stable).
/// </summary>
public sealed class Csr
{
    private Csr(int rows, int columnCount, int[] offsets, int[] columns, double[] values)
    {
        Rows = rows;
        ColumnCount = columnCount;
        Offsets = offsets;
        Columns = columns;
        Values = values;
    }

    public int Rows { get; }
    public int ColumnCount { get; }
    public int[] Offsets { get; }
    public int[] Columns { get; }
    public double[] Values { get; }

    public int RowLength(int row) => Offsets[row + 1] - Offsets[row];

    public long Entries => Offsets[Rows];

    /// <summary>Builds the matrix from (row, column, value) triples by a counting sort on the row (stable, O(n)).</summary>
    public static Csr FromTriples(int rows, int columnCount, ReadOnlySpan<int> rowIndex, ReadOnlySpan<int> columnIndex, ReadOnlySpan<double> values) =>
        FromTriples(rows, columnCount, rowIndex, columnIndex, values, positions: null);

    /// <summary>As above; <paramref name="positions"/>[k] receives the entry index where input triple k landed (to align other per-triple arrays).</summary>
    public static Csr FromTriples(int rows, int columnCount, ReadOnlySpan<int> rowIndex, ReadOnlySpan<int> columnIndex, ReadOnlySpan<double> values, int[]? positions)
    {
        if (rowIndex.Length != columnIndex.Length || rowIndex.Length != values.Length)
            throw new ArgumentException("Row, column and value arrays must have the same length.", nameof(values));
        var offsets = new int[rows + 1];
        foreach (var r in rowIndex)
        {
            if ((uint)r >= (uint)rows) throw new ArgumentOutOfRangeException(nameof(rowIndex), r, $"Row index outside [0, {rows}).");
            offsets[r + 1]++;
        }
        for (var r = 0; r < rows; r++) offsets[r + 1] += offsets[r];
        var next = offsets[..rows];
        var columns = new int[rowIndex.Length];
        var vals = new double[rowIndex.Length];
        for (var e = 0; e < rowIndex.Length; e++)
        {
            var c = columnIndex[e];
            if ((uint)c >= (uint)columnCount) throw new ArgumentOutOfRangeException(nameof(columnIndex), c, $"Column index outside [0, {columnCount}).");
            var at = next[rowIndex[e]]++;
            if (positions is not null) positions[e] = at;
            columns[at] = c;
            vals[at] = values[e];
        }
        return new Csr(rows, columnCount, offsets, columns, vals);
    }

    /// <summary>A matrix from row offsets and each entry's column and value (taken as they are, not copied).</summary>
    public static Csr FromOffsets(int rows, int columnCount, int[] offsets, int[] columns, double[] values)
    {
        if (offsets.Length != rows + 1 || offsets[rows] > columns.Length || offsets[rows] > values.Length)
            throw new ArgumentException("Offsets must have rows + 1 entries ending within the column and value arrays.", nameof(offsets));
        return new Csr(rows, columnCount, offsets, columns, values);
    }

    /// <summary>A pattern matrix (all values 1) from row offsets and the column of each entry.</summary>
    public static Csr FromOffsets(int rows, int columnCount, int[] offsets, int[] columns)
    {
        if (offsets.Length != rows + 1 || offsets[rows] != columns.Length)
            throw new ArgumentException("Offsets must have rows + 1 entries ending at the number of columns.", nameof(offsets));
        var values = new double[columns.Length];
        Array.Fill(values, 1.0);
        return new Csr(rows, columnCount, offsets, columns, values);
    }

    /// <summary>
    /// Each row cut to its <paramref name="perRow"/> largest values (ties: lowest column first), kept in their original
    /// order; rows that are short enough are copied whole. The SQL's <c>row_number() … ORDER BY value DESC, column ASC
    /// &lt;= perRow</c>. Returns this matrix itself when no row is longer than <paramref name="perRow"/>.
    /// </summary>
    public Csr TopPerRow(int perRow)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perRow, 1);
        var offsets = new int[Rows + 1];
        for (var r = 0; r < Rows; r++) offsets[r + 1] = offsets[r] + Math.Min(perRow, RowLength(r));
        if (offsets[Rows] == Entries) return this;
        var columns = new int[offsets[Rows]];
        var values = new double[columns.Length];
        var order = Array.Empty<int>();
        for (var r = 0; r < Rows; r++)
        {
            var (from, length, at) = (Offsets[r], RowLength(r), offsets[r]);
            if (length <= perRow)
            {
                Array.Copy(Columns, from, columns, at, length);
                Array.Copy(Values, from, values, at, length);
                continue;
            }
            if (order.Length < length) order = new int[length];
            var row = order.AsSpan(0, length);
            for (var i = 0; i < length; i++) row[i] = from + i;
            row.Sort((x, y) => Values[y] != Values[x] ? Values[y].CompareTo(Values[x]) : Columns[x].CompareTo(Columns[y]));
            var kept = row[..perRow];
            kept.Sort(); // back to the row's own order
            foreach (var e in kept)
            {
                columns[at] = Columns[e];
                values[at++] = Values[e];
            }
        }
        return new Csr(Rows, ColumnCount, offsets, columns, values);
    }

    /// <summary>The same pattern with every value mapped (a new matrix; this one is unchanged).</summary>
    public Csr MapValues(Func<double, double> map)
    {
        var values = new double[Entries];
        for (var e = 0; e < values.Length; e++) values[e] = map(Values[e]);
        return new Csr(Rows, ColumnCount, Offsets, Columns, values);
    }

    /// <summary>Per row, the largest |value| (0 for an empty row): the SQL's <c>max(abs(value)) … GROUP BY row</c>.</summary>
    public double[] LargestAbsoluteValues()
    {
        var largest = new double[Rows];
        for (var r = 0; r < Rows; r++)
            for (var e = Offsets[r]; e < Offsets[r + 1]; e++) largest[r] = Math.Max(largest[r], Math.Abs(Values[e]));
        return largest;
    }

    /// <summary>The transpose; each row of it lists the original rows in ascending order.</summary>
    public Csr Transpose()
    {
        var n = (int)Entries;
        var rows = new int[n];
        for (var r = 0; r < Rows; r++)
            for (var e = Offsets[r]; e < Offsets[r + 1]; e++) rows[e] = r;
        return FromTriples(ColumnCount, Rows, Columns.AsSpan(0, n), rows, Values.AsSpan(0, n));
    }
}
