using System.Collections.Concurrent;

namespace SparkReco.Kernels;

/// <summary>Scores one row's candidates into <paramref name="top"/>, using <paramref name="scratch"/> (one per thread) as its accumulators.</summary>
public delegate void RowScorer<in TScratch>(int row, TScratch scratch, TopKHeap top);

/// <summary>Writes one row's output, best first, into <paramref name="slots"/> and returns how many entries it wrote.</summary>
public delegate int RowFiller<in TScratch>(int row, TScratch scratch, RowSlots slots);

/// <summary>The output slots of one row: column, score, an extra value and a small tag per entry.</summary>
public readonly ref struct RowSlots(Span<int> columns, Span<double> scores, Span<long> extras, Span<int> tags)
{
    public Span<int> Columns { get; } = columns;
    public Span<double> Scores { get; } = scores;
    public Span<long> Extras { get; } = extras;
    public Span<int> Tags { get; } = tags;
    public int Capacity => Columns.Length;
}

/// <summary>Rows of kernel output, ordered by (row, rank): row, column, score, an extra value and a tag per entry, and the 1-based rank.</summary>
public sealed class TopKBlock
{
    internal TopKBlock(int capacity)
    {
        Rows = new int[capacity];
        Columns = new int[capacity];
        Scores = new double[capacity];
        Extras = new long[capacity];
        Tags = new int[capacity];
        Ranks = new long[capacity];
    }

    public int Count { get; internal set; }
    public int[] Rows { get; }
    public int[] Columns { get; }
    public double[] Scores { get; }
    public long[] Extras { get; }
    public int[] Tags { get; }
    public long[] Ranks { get; }
}

/// <summary>
/// The one row-wise driver every CF kernel runs on: rows are processed in blocks, each block in parallel over rows with
/// one scratch (dense accumulators) per thread, and handed out in row order. A row's result depends only on the row
/// (each kernel adds in a fixed order), so the output is the same for any number of threads. Memory is bounded by the
/// block: <c>slotsPerRow</c> slots per row of one block, plus the scratches. A yielded block stays valid until the
/// enumerator has moved on twice (two output blocks are used in turn), so a writer may overlap with the next block.
/// </summary>
public static class RowTopK
{
    /// <summary>Slots of output per block (rows × slots per row); bounds the kernel's output memory whatever the row count.</summary>
    private const int SlotsPerBlock = 1 << 20;

    /// <summary>"Sparse product, keep the top K per row": each row offers its candidates to a bounded heap.</summary>
    public static IEnumerable<TopKBlock> Run<TScratch>(int rows, int k, int threads, Func<TScratch> newScratch, RowScorer<TScratch> scoreRow) =>
        Run(rows, k, threads, () => (Scratch: newScratch(), Top: new TopKHeap(k)), ((TScratch Scratch, TopKHeap Top) local, int row, RowSlots slots) =>
        {
            local.Top.Clear();
            scoreRow(row, local.Scratch, local.Top);
            return local.Top.Drain(slots.Columns, slots.Scores, slots.Extras);
        });

    /// <summary>Rows whose output the row function writes itself (at most <paramref name="slotsPerRow"/> entries).</summary>
    public static IEnumerable<TopKBlock> Run<TScratch>(int rows, int slotsPerRow, int threads, Func<TScratch> newScratch, RowFiller<TScratch> fill) =>
        Run(rows, slotsPerRow, threads, newScratch, (TScratch scratch, int row, RowSlots slots) => fill(row, scratch, slots));

    private delegate int Filler<in TScratch>(TScratch scratch, int row, RowSlots slots);

    private static IEnumerable<TopKBlock> Run<TScratch>(int rows, int k, int threads, Func<TScratch> newScratch, Filler<TScratch> fill)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var blockRows = Math.Max(1, SlotsPerBlock / k);
        var blockCapacity = Math.Min(blockRows, Math.Max(rows, 1));
        var slots = blockCapacity * k;
        var columns = new int[slots];
        var scores = new double[slots];
        var extras = new long[slots];
        var tags = new int[slots];
        var counts = new int[blockCapacity];
        // Two output blocks, used in turn, so a consumer may still read block n while block n + 1 is computed.
        TopKBlock[] outputs = [new TopKBlock(slots), new TopKBlock(slots)];
        var turn = 0;
        var scratches = new ConcurrentBag<TScratch>();
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount };

        for (var start = 0; start < rows; start += blockRows)
        {
            var end = Math.Min(rows, start + blockRows);
            var blockStart = start;
            Parallel.For(blockStart, end, options,
                () => scratches.TryTake(out var s) ? s : newScratch(),
                (row, _, scratch) =>
                {
                    var at = (row - blockStart) * k;
                    Array.Clear(tags, at, k);
                    counts[row - blockStart] = fill(scratch, row, new RowSlots(columns.AsSpan(at, k), scores.AsSpan(at, k), extras.AsSpan(at, k), tags.AsSpan(at, k)));
                    return scratch;
                },
                scratches.Add);

            var output = outputs[turn];
            turn ^= 1;
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
                    output.Tags[n] = tags[at + j];
                    output.Ranks[n] = j + 1;
                }
            }
            output.Count = n;
            yield return output;
        }
    }
}
