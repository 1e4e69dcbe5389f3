namespace SparkReco.Kernels;

/// <summary>A kernel's output kept as rows × columns, each row in rank order (best first), with each entry's extra value (a count or a reason).</summary>
public sealed record RankedRows(Csr Matrix, long[] Extras);

/// <summary>The blend of a recommendations table: source weights, list length, back-fill and seen items.</summary>
public sealed record BlendOptions(double ItemWeight, double UserWeight, int TopN, bool Backfill, bool RemoveSeen);

/// <summary>
/// recommendations from the cut candidates, exactly as the stage SQL ranks them: each source divided by the user's
/// maximum, blended as ItemWeight·item + UserWeight·user (a missing source counts 0), the best N by (score desc, item
/// asc); then, when the list is short, back-fill from the popular items ranked within n_seen + 2N that the user has not
/// seen and the list does not hold, by (score desc, item asc). Every score is the same double operation as in the SQL.
/// Each entry's tag says its source and reason kind (<see cref="Source"/>, <see cref="ReasonKind"/>); extra is the reason id, −1 for none.
/// </summary>
public static class RecommendKernel
{
    public enum Source
    {
        Item = 0,
        User = 1,
        Blend = 2,
        Popular = 3,
    }

    public enum ReasonKind
    {
        Item = 0,
        User = 1,
        Popular = 2,
    }

    public static int Tag(Source source, ReasonKind kind) => (int)source * 4 + (int)kind;
    public static Source SourceOf(int tag) => (Source)(tag / 4);
    public static ReasonKind ReasonKindOf(int tag) => (ReasonKind)(tag % 4);

    /// <param name="affinity">users × items: who is known (one row each) and what they have seen.</param>
    /// <param name="popularItems">Items with positive popularity, most popular first (ties: lowest item).</param>
    /// <param name="popularScores">Their back-fill scores, popularity / the top popularity.</param>
    public static IEnumerable<TopKBlock> Run(Csr affinity, RankedRows? items, RankedRows? users, int[] popularItems, double[] popularScores,
        BlendOptions options, int threads)
    {
        var columns = affinity.ColumnCount;
        var n = options.TopN;
        return RowTopK.Run(affinity.Rows, n, threads, () => new Scratch(columns, n), (int u, Scratch s, RowSlots slots) =>
        {
            s.NextRow();
            if (items is not null) s.Normalise(items, u, user: false);
            if (users is not null) s.Normalise(users, u, user: true);
            var top = s.Top;
            top.Clear();
            foreach (var item in s.Candidates.Touched) top.Offer(item, s.Blend(item, options, items is not null, users is not null, out var packed), packed);
            var count = top.Drain(slots.Columns, slots.Scores, slots.Extras);
            for (var j = 0; j < count; j++)
            {
                slots.Tags[j] = (int)(slots.Extras[j] >> 32);
                slots.Extras[j] = (int)(slots.Extras[j] & 0xFFFFFFFF);
            }
            if (!options.Backfill || count >= n) return count;

            // Back-fill: popular items ranked within n_seen + 2N, not seen, not already listed.
            s.Excluded.Reset();
            for (var j = 0; j < count; j++) s.Excluded.Touch(slots.Columns[j]);
            if (options.RemoveSeen)
                for (var e = affinity.Offsets[u]; e < affinity.Offsets[u + 1]; e++) s.Excluded.Touch(affinity.Columns[e]);
            var depth = Math.Min(popularItems.Length, affinity.RowLength(u) + 2 * n);
            var fill = s.Backfill;
            fill.Clear();
            for (var p = 0; p < depth; p++)
            {
                var item = popularItems[p];
                if (!s.Excluded.Touch(item)) continue;
                fill.Offer(item, popularScores[p], 0);
            }
            // The heap keeps N; only N − count fit the list: the best ones, which drain first.
            var more = Math.Min(fill.Drain(s.FillColumns, s.FillScores, s.FillExtras), n - count);
            for (var j = 0; j < more; j++)
            {
                slots.Columns[count + j] = s.FillColumns[j];
                slots.Scores[count + j] = s.FillScores[j];
                slots.Extras[count + j] = -1;
                slots.Tags[count + j] = Tag(Source.Popular, ReasonKind.Popular);
            }
            return count + more;
        });
    }

    private sealed class Scratch(int items, int n)
    {
        private readonly double[] _itemScore = new double[items];
        private readonly double[] _userScore = new double[items];
        private readonly long[] _itemReason = new long[items];
        private readonly long[] _userReason = new long[items];
        private readonly int[] _hasItem = new int[items];
        private readonly int[] _hasUser = new int[items];
        private int _generation;

        public TouchedColumns Candidates { get; } = new(items);
        public TouchedColumns Excluded { get; } = new(items);
        public TopKHeap Top { get; } = new(n);

        /// <summary>Back-fill candidates: N slots, though the list has room for fewer.</summary>
        public TopKHeap Backfill { get; } = new(n);

        public int[] FillColumns { get; } = new int[n];
        public double[] FillScores { get; } = new double[n];
        public long[] FillExtras { get; } = new long[n];

        /// <summary>Starts a user: no candidates from either source.</summary>
        public void NextRow()
        {
            Candidates.Reset();
            if (++_generation == int.MaxValue)
            {
                Array.Clear(_hasItem);
                Array.Clear(_hasUser);
                _generation = 1;
            }
        }

        /// <summary>Loads one source's row for user u, divided by the user's maximum score from that source.</summary>
        public void Normalise(RankedRows source, int u, bool user)
        {
            var m = source.Matrix;
            var from = m.Offsets[u];
            var to = m.Offsets[u + 1];
            if (from == to) return;
            var max = m.Values[from];
            for (var e = from + 1; e < to; e++) max = Math.Max(max, m.Values[e]);
            for (var e = from; e < to; e++)
            {
                var item = m.Columns[e];
                Candidates.Touch(item);
                if (user)
                {
                    _hasUser[item] = _generation;
                    _userScore[item] = m.Values[e] / max;
                    _userReason[item] = source.Extras[e];
                }
                else
                {
                    _hasItem[item] = _generation;
                    _itemScore[item] = m.Values[e] / max;
                    _itemReason[item] = source.Extras[e];
                }
            }
        }

        /// <summary>The blended score of a candidate; <paramref name="packed"/> = tag in the high half, reason in the low half.</summary>
        public double Blend(int item, BlendOptions o, bool useItem, bool useUser, out long packed)
        {
            var hasItem = _hasItem[item] == _generation;
            var hasUser = _hasUser[item] == _generation;
            if (useItem && useUser)
            {
                var itemPart = o.ItemWeight * (hasItem ? _itemScore[item] : 0.0);
                var userPart = o.UserWeight * (hasUser ? _userScore[item] : 0.0);
                var source = !hasItem ? Source.User : !hasUser ? Source.Item : Source.Blend;
                var byItem = itemPart >= userPart;
                packed = Pack(Tag(source, byItem ? ReasonKind.Item : ReasonKind.User), byItem ? _itemReason[item] : _userReason[item]);
                return itemPart + userPart;
            }
            if (useItem)
            {
                packed = Pack(Tag(Source.Item, ReasonKind.Item), _itemReason[item]);
                return o.ItemWeight * _itemScore[item];
            }
            packed = Pack(Tag(Source.User, ReasonKind.User), _userReason[item]);
            return o.UserWeight * _userScore[item];
        }

        private static long Pack(int tag, long reason) => ((long)tag << 32) | (uint)reason;
    }
}
