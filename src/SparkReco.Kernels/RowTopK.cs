using System.Collections.Concurrent;

namespace SparkReco.Kernels;

/// <summary>Scores one row's candidates into <paramref name="top"/>, using <paramref name="scratch"/> (one per thread) as its accumulators.</summary>
public delegate void RowScorer<in TScratch>(int row, TScratch scratch, TopKHeap top);

/// <summary>Rows of kernel output, ordered by (row, rank): row, column, score, an extra value per entry and the 1-based rank.</summary>
public sealed class TopKBlock
{
    internal TopKBlock(int capacity)
    {
        Rows = new int[capacity];
        Columns = new int[capacity];
        Scores = new double[capacity];
        Extras = new long[capacity];
        Ranks = new long[capacity];
    }

    public int Count { get; internal set; }
    public int[] Rows { get; }
    public int[] Columns { get; }
    public double[] Scores { get; }
    public long[] Extras { get; }
    public long[] Ranks { get; }
}

/// <summary>
/// The one row-wise "sparse product, keep the top K per row" driver every CF kernel runs on: rows are processed in
/// blocks, each block in parallel over rows with one scratch (dense accumulators) per thread, and handed out in row
/// order. A row's result depends only on the row (each kernel adds in a fixed order), so the output is the same for any
/// number of threads. Memory is bounded by the block: K slots per row of one block, plus the scratches.
/// </summary>
public static class RowTopK
{
    /// <summary>Slots of output per block (rows × K); bounds the kernel's output memory whatever the row count.</summary>
    private const int SlotsPerBlock = 1 << 20;

    public static IEnumerable<TopKBlock> Run<TScratch>(int rows, int k, int threads, Func<TScratch> newScratch, RowScorer<TScratch> scoreRow)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var blockRows = Math.Max(1, SlotsPerBlock / k);
        var slots = Math.Min(blockRows, Math.Max(rows, 1)) * k;
        var columns = new int[slots];
        var scores = new double[slots];
        var extras = new long[slots];
        var counts = new int[Math.Min(blockRows, Math.Max(rows, 1))];
        var output = new TopKBlock(slots);
        var scratches = new ConcurrentBag<(TScratch Scratch, TopKHeap Top)>();
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount };

        for (var start = 0; start < rows; start += blockRows)
        {
            var end = Math.Min(rows, start + blockRows);
            var blockStart = start;
            Parallel.For(blockStart, end, options,
                () => scratches.TryTake(out var s) ? s : (Scratch: newScratch(), Top: new TopKHeap(k)),
                (int row, ParallelLoopState _, (TScratch Scratch, TopKHeap Top) local) =>
                {
                    local.Top.Clear();
                    scoreRow(row, local.Scratch, local.Top);
                    var at = (row - blockStart) * k;
                    counts[row - blockStart] = local.Top.Drain(columns.AsSpan(at, k), scores.AsSpan(at, k), extras.AsSpan(at, k));
                    return local;
                },
                scratches.Add);

            var n = 0;
            for (var row = blockStart; row < end; row++)
            {
                var at = (row - blockStart) * k;
                for (var j = 0; j < counts[row - blockStart]; j++, n++)
                {
                    output.Rows[n] = row;
                    output.Columns[n] = columns[at + j];
                    output.Scores[n] = scores[at + j];
                    output.Extras[n] = extras[at + j];
                    output.Ranks[n] = j + 1;
                }
            }
            output.Count = n;
            yield return output;
        }
    }
}
