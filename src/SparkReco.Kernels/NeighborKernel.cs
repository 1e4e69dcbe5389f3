namespace SparkReco.Kernels;

/// <summary>
/// user_neighbors as a row-wise sparse product over unit affinity vectors: for each user u, walk u's items and, for
/// each, the other users of the item, adding the rounded term w(u,i)·w(v,i) and counting the overlap. Every term is
/// rounded to a multiple of 2⁻⁵² and added as an integer, which is exactly the SQL's sum (its partial sums are exact
/// too), so both give the same bits. Neighbours need MinOverlap shared items; the top K by similarity are kept.
/// </summary>
public sealed class NeighborKernel(Csr userItems, int minOverlap, int topK)
{
    /// <summary>2⁵²: the grid of the dot-product terms.</summary>
    public const double Grid = 4503599627370496.0;

    private readonly Csr _itemUsers = userItems.Transpose();

    /// <summary>
    /// The unit vectors the SQL's neighbour-vectors step makes, from users × items affinity: entries with positive
    /// affinity on items with at most <paramref name="maxUsersPerItem"/> such users, each divided by the norm of the
    /// user's kept entries (the norm's sum of squares added exactly, as the SQL's does), so the weights are the same bits.
    /// </summary>
    public static Csr UnitVectors(Csr affinity, int maxUsersPerItem)
    {
        var usersPerItem = new int[affinity.ColumnCount];
        for (var e = 0; e < affinity.Entries; e++)
            if (affinity.Values[e] > 0) usersPerItem[affinity.Columns[e]]++;
        bool Kept(int e) => affinity.Values[e] > 0 && usersPerItem[affinity.Columns[e]] <= maxUsersPerItem;

        var offsets = new int[affinity.Rows + 1];
        for (var u = 0; u < affinity.Rows; u++)
        {
            var kept = 0;
            for (var e = affinity.Offsets[u]; e < affinity.Offsets[u + 1]; e++) if (Kept(e)) kept++;
            offsets[u + 1] = offsets[u] + kept;
        }
        var columns = new int[offsets[affinity.Rows]];
        var weights = new double[columns.Length];
        for (var u = 0; u < affinity.Rows; u++)
        {
            Int128 squares = 0;
            for (var e = affinity.Offsets[u]; e < affinity.Offsets[u + 1]; e++)
                if (Kept(e)) squares += ExactDecimalSum.Term(affinity.Values[e] * affinity.Values[e]);
            var norm = Math.Sqrt(ExactDecimalSum.ToDouble(squares));
            var at = offsets[u];
            for (var e = affinity.Offsets[u]; e < affinity.Offsets[u + 1]; e++)
            {
                if (!Kept(e)) continue;
                columns[at] = affinity.Columns[e];
                weights[at++] = affinity.Values[e] / norm;
            }
        }
        return Csr.FromOffsets(affinity.Rows, affinity.ColumnCount, offsets, columns, weights);
    }

    /// <summary>Rows (user, neighbour, similarity, extra = overlap, rank), user by user.</summary>
    public IEnumerable<TopKBlock> Run(int threads)
    {
        var users = userItems.Rows;
        return RowTopK.Run(users, topK, threads, () => new Scratch(users), (u, s, top) =>
        {
            var itemUsers = _itemUsers;
            var pairs = s.Pairs;
            var touched = s.Touched;
            var n = 0;
            for (var e = userItems.Offsets[u]; e < userItems.Offsets[u + 1]; e++)
            {
                var i = userItems.Columns[e];
                var wu = userItems.Values[e];
                for (var f = itemUsers.Offsets[i]; f < itemUsers.Offsets[i + 1]; f++)
                {
                    var v = itemUsers.Columns[f];
                    ref var pair = ref pairs[v];
                    if (pair.Overlap++ == 0) touched[n++] = v;
                    pair.Sum += GridRound.Of(wu * itemUsers.Values[f] * Grid);
                }
            }
            pairs[u] = default; // u meets itself on every item: not a neighbour
            for (var t = 0; t < n; t++)
            {
                var v = touched[t];
                var (sum, count) = (pairs[v].Sum, pairs[v].Overlap);
                pairs[v] = default;
                if (v == u || count < minOverlap) continue;
                top.Offer(v, sum / Grid, count);
            }
        });
    }

    /// <summary>
    /// One candidate's running dot product and overlap, side by side: the kernel's cost is the random access to these, so
    /// each increment touches one place instead of two arrays.
    /// </summary>
    private struct Pair
    {
        public long Sum;
        public int Overlap;
    }

    /// <summary>Sums and overlaps per user (zero between rows) and the list of users the row touched.</summary>
    private sealed class Scratch(int users)
    {
        public Pair[] Pairs { get; } = new Pair[users];
        public int[] Touched { get; } = new int[users];
    }
}
