namespace SparkReco.Kernels;

/// <summary>
/// Per-thread accumulators over all columns with a list of the columns touched by the current row, so clearing costs
/// what the row touched, not the number of columns.
/// </summary>
public sealed class TouchedColumns
{
    private readonly int[] _stamp;
    private readonly int[] _touched;
    private int _generation;

    public TouchedColumns(int columns)
    {
        _stamp = new int[columns];
        _touched = new int[columns];
    }

    public int Count { get; private set; }

    public ReadOnlySpan<int> Touched => _touched.AsSpan(0, Count);

    /// <summary>Starts a new row: nothing is touched.</summary>
    public void Reset()
    {
        Count = 0;
        if (++_generation == int.MaxValue)
        {
            Array.Clear(_stamp);
            _generation = 1;
        }
    }

    /// <summary>Marks a column touched; true the first time in this row (the caller then initialises its accumulator).</summary>
    public bool Touch(int column)
    {
        if (_stamp[column] == _generation) return false;
        _stamp[column] = _generation;
        _touched[Count++] = column;
        return true;
    }
}
