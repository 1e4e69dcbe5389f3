namespace SparkReco.Kernels;

/// <summary>
/// The best K candidates of one row, by score (highest first) and then column (lowest first), kept in a bounded heap
/// whose root is the worst kept candidate. Reused row after row: no allocation per candidate.
/// </summary>
public sealed class TopKHeap
{
    private readonly int[] _columns;
    private readonly double[] _scores;
    private readonly long[] _extras;

    public TopKHeap(int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        K = k;
        _columns = new int[k];
        _scores = new double[k];
        _extras = new long[k];
    }

    public int K { get; }
    public int Count { get; private set; }

    public void Clear() => Count = 0;

    /// <summary>Whether (score, column) ranks after (score2, column2): lower score, or the same score and a higher column.</summary>
    private static bool Worse(double score, int column, double score2, int column2) =>
        score < score2 || (score == score2 && column > column2);

    /// <summary>Keeps the candidate if it is among the best K so far; <paramref name="extra"/> travels with it (a count, a reason).</summary>
    public void Offer(int column, double score, long extra)
    {
        if (Count < K)
        {
            var i = Count++;
            _columns[i] = column;
            _scores[i] = score;
            _extras[i] = extra;
            SiftUp(i);
            return;
        }
        if (Worse(score, column, _scores[0], _columns[0]) || (score == _scores[0] && column == _columns[0])) return;
        _columns[0] = column;
        _scores[0] = score;
        _extras[0] = extra;
        SiftDown(0);
    }

    /// <summary>Writes the kept candidates best-first into the spans and returns how many; the heap is empty afterwards.</summary>
    public int Drain(Span<int> columns, Span<double> scores, Span<long> extras)
    {
        var n = Count;
        // Pop the worst repeatedly and fill from the back.
        for (var i = n - 1; i >= 0; i--)
        {
            columns[i] = _columns[0];
            scores[i] = _scores[0];
            extras[i] = _extras[0];
            var last = --Count;
            if (last > 0)
            {
                _columns[0] = _columns[last];
                _scores[0] = _scores[last];
                _extras[0] = _extras[last];
                SiftDown(0);
            }
        }
        return n;
    }

    private void SiftUp(int i)
    {
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (!Worse(_scores[i], _columns[i], _scores[parent], _columns[parent])) break;
            Swap(i, parent);
            i = parent;
        }
    }

    private void SiftDown(int i)
    {
        while (true)
        {
            var left = 2 * i + 1;
            if (left >= Count) return;
            var worst = left;
            var right = left + 1;
            if (right < Count && Worse(_scores[right], _columns[right], _scores[left], _columns[left])) worst = right;
            if (!Worse(_scores[worst], _columns[worst], _scores[i], _columns[i])) return;
            Swap(i, worst);
            i = worst;
        }
    }

    private void Swap(int a, int b)
    {
        (_columns[a], _columns[b]) = (_columns[b], _columns[a]);
        (_scores[a], _scores[b]) = (_scores[b], _scores[a]);
        (_extras[a], _extras[b]) = (_extras[b], _extras[a]);
    }
}
