namespace SparkReco.Kernels;

/// <summary>How candidate scores are cut before blending: seen items, popularity penalty, candidates kept per user.</summary>
/// <param name="ItemUsers">Users per item (the popularity penalty's base); may be empty when Beta is 0.</param>
public sealed record CandidateOptions(bool RemoveSeen, double Beta, int[] ItemUsers, int Candidates);

/// <summary>
/// Candidate scoring for the two recommenders, as row-wise sparse products with the reason (the largest term's
/// contributor, lowest id on ties) kept alongside each sum. Terms are put on the row's <see cref="ScoreGrid"/>, so sums are
/// exact and scores, and therefore the order of ties, are the same bits as the SQL's. Per user: candidates with a
/// positive sum, seen items removed, score divided by users(item)^β, the top N′ kept.
/// </summary>
public static class ScoreKernel
{
    /// <summary>Item-based: score(u, i) = Σ_j a(u, j)·s(j, i) over u's items j and j's similar items i; extra = the reason item j.</summary>
    public static IEnumerable<TopKBlock> ItemBased(Csr affinity, Csr similarity, CandidateOptions options, int threads)
    {
        var items = affinity.ColumnCount;
        var largestWeight = similarity.LargestAbsoluteValues();
        return RowTopK.Run(affinity.Rows, options.Candidates, threads, () => new Scratch(items), (u, s, top) =>
        {
            s.Reset();
            // The grid's bound: (items with similar items) × the largest |a(u, j)|·max|s(j, ·)|.
            long sources = 0;
            var largest = 0.0;
            for (var e = affinity.Offsets[u]; e < affinity.Offsets[u + 1]; e++)
            {
                var j = affinity.Columns[e];
                if (similarity.RowLength(j) == 0) continue;
                sources++;
                largest = Math.Max(largest, Math.Abs(affinity.Values[e]) * largestWeight[j]);
            }
            if (sources == 0) return;
            var scale = ScoreGrid.Scale(sources * largest);
            for (var e = affinity.Offsets[u]; e < affinity.Offsets[u + 1]; e++)
            {
                var j = affinity.Columns[e];
                var a = affinity.Values[e];
                for (var f = similarity.Offsets[j]; f < similarity.Offsets[j + 1]; f++)
                    s.Add(similarity.Columns[f], ScoreGrid.Units(a * similarity.Values[f] * scale), scale, j);
            }
            Emit(u, affinity, s, options, top, total: null);
        });
    }

    /// <summary>
    /// User-based: r̂(u, i) = Σ_v w(u, v)·a(v, i) / Σ_v |w(u, v)| over u's neighbours v (the denominator over all of them);
    /// extra = the reason neighbour v. <paramref name="neighborItems"/> are the items each user contributes as a neighbour
    /// (affinity itself, or its rows cut by <see cref="Csr.TopPerRow"/>); <paramref name="affinity"/> says what u has seen.
    /// </summary>
    public static IEnumerable<TopKBlock> UserBased(Csr affinity, Csr neighborItems, Csr neighbors, CandidateOptions options, int threads)
    {
        var items = affinity.ColumnCount;
        var largestAffinity = neighborItems.LargestAbsoluteValues();
        return RowTopK.Run(affinity.Rows, options.Candidates, threads, () => new Scratch(items), (u, s, top) =>
        {
            s.Reset();
            var from = neighbors.Offsets[u];
            var to = neighbors.Offsets[u + 1];
            if (from == to) return;
            // The denominator over all neighbours; the grid's bound: (neighbours with items) × the largest |w(u, v)|·max|a(v, ·)|.
            Int128 total = 0;
            long sources = 0;
            var largest = 0.0;
            for (var e = from; e < to; e++)
            {
                var v = neighbors.Columns[e];
                total += ExactDecimalSum.Term(Math.Abs(neighbors.Values[e]));
                if (neighborItems.RowLength(v) == 0) continue;
                sources++;
                largest = Math.Max(largest, Math.Abs(neighbors.Values[e]) * largestAffinity[v]);
            }
            if (sources == 0) return;
            var scale = ScoreGrid.Scale(sources * largest);
            for (var e = from; e < to; e++)
            {
                var v = neighbors.Columns[e];
                var w = neighbors.Values[e];
                for (var f = neighborItems.Offsets[v]; f < neighborItems.Offsets[v + 1]; f++)
                    s.Add(neighborItems.Columns[f], ScoreGrid.Units(w * neighborItems.Values[f] * scale), scale, v);
            }
            Emit(u, affinity, s, options, top, ExactDecimalSum.ToDouble(total));
        });
    }

    private static void Emit(int u, Csr affinity, Scratch s, CandidateOptions options, TopKHeap top, double? total)
    {
        if (options.RemoveSeen)
        {
            s.Seen.Reset();
            for (var e = affinity.Offsets[u]; e < affinity.Offsets[u + 1]; e++) s.Seen.Touch(affinity.Columns[e]);
        }
        foreach (var i in s.Touched)
        {
            var sum = s.Sum(i);
            if (!(sum > 0)) continue;
            if (options.RemoveSeen && !s.Seen.Touch(i)) continue;
            var score = total is { } t ? sum / t : sum;
            if (options.Beta > 0) score /= Math.Pow(options.ItemUsers[i], options.Beta);
            top.Offer(i, score, s.Reason(i));
        }
    }

    /// <summary>
    /// Per-thread accumulators, one 24-byte entry per item holding everything a contribution touches (sum, the largest
    /// term's reason key, its contributor, and the row stamp that says whether the entry is live), so each contribution
    /// costs one cache line rather than one per array; plus the list of items the current row touched.
    /// </summary>
    private sealed class Scratch(int items)
    {
        private readonly Entry[] _entries = new Entry[items];
        private readonly int[] _touched = new int[items];
        private int _count;
        private int _row;

        public TouchedColumns Seen { get; } = new(items);

        /// <summary>Items the current row touched, in first-touch order.</summary>
        public ReadOnlySpan<int> Touched => _touched.AsSpan(0, _count);

        public double Sum(int i) => _entries[i].Sum;
        public int Reason(int i) => _entries[i].Reason;

        /// <summary>Starts a new row: nothing is touched.</summary>
        public void Reset()
        {
            _count = 0;
            if (++_row == int.MaxValue)
            {
                Array.Clear(_entries);
                _row = 1;
            }
        }

        /// <summary>
        /// Adds one term, given in grid units, to item i's sum (units / scale: exact, see <see cref="ScoreGrid"/>) and keeps
        /// the contributor of the largest term by <see cref="ScoreGrid.ReasonKey"/> (lowest id on ties).
        /// </summary>
        public void Add(int i, double units, double scale, int contributor)
        {
            ref var entry = ref _entries[i];
            var key = ScoreGrid.ReasonKey(units);
            if (entry.Row != _row)
            {
                entry.Row = _row;
                _touched[_count++] = i;
                entry.Sum = units / scale;
                entry.Best = key;
                entry.Reason = contributor;
                return;
            }
            entry.Sum += units / scale;
            if (key > entry.Best || (key == entry.Best && contributor < entry.Reason))
            {
                entry.Best = key;
                entry.Reason = contributor;
            }
        }

        private struct Entry
        {
            public double Sum;
            public long Best;
            public int Reason;
            public int Row;
        }
    }
}
