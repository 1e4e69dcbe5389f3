namespace SparkReco.Kernels;

/// <summary>Settings of item_similarity, as the stage reads them.</summary>
public sealed record ItemSimilarityOptions(string Measure, int MaxItemsPerUser, int MinSupport, int TopK);

/// <summary>Counts the stage reports: pairs generated, users whose basket was capped, users, pairs with support.</summary>
public sealed record ItemSimilarityFacts(long Pairs, long CappedUsers, long Users, long PairsWithSupport);

/// <summary>
/// item_similarity as a row-wise sparse product: for each item a, walk its users' (capped) baskets and count every
/// other item b in a per-thread dense array; keep b when c ≥ MinSupport, score it with the measure and keep the top K.
/// Baskets: each user's items, at most MaxItemsPerUser — most recent first, then highest affinity, then lowest item.
/// </summary>
public sealed class ItemSimilarityKernel
{
    private readonly ItemSimilarityOptions _options;
    private readonly Csr _baskets;   // users × items
    private readonly Csr _itemUsers; // items × users
    private readonly long _users;
    private long _pairsWithSupport;

    /// <param name="lastSeconds">Latest event time of each (user, item) row as seconds; orders the cap.</param>
    public ItemSimilarityKernel(int users, int items, int[] userIx, int[] itemIx, double[] affinity, double[] lastSeconds, int rows, ItemSimilarityOptions options)
    {
        _options = options;
        // Group the rows by user; each entry's value is its row number, so the cap can look up time and affinity.
        var all = Csr.FromTriples(users, items, userIx.AsSpan(0, rows), itemIx.AsSpan(0, rows), Indexes(rows));
        var basketUser = new List<int>(rows);
        var basketItem = new List<int>(rows);
        long capped = 0, pairs = 0, withItems = 0;
        var order = new List<int>();
        for (var u = 0; u < users; u++)
        {
            var from = all.Offsets[u];
            var to = all.Offsets[u + 1];
            if (to == from) continue;
            withItems++;
            order.Clear();
            for (var e = from; e < to; e++) order.Add((int)all.Values[e]);
            if (order.Count > options.MaxItemsPerUser)
            {
                capped++;
                order.Sort((x, y) =>
                {
                    var byTime = lastSeconds[y].CompareTo(lastSeconds[x]);
                    if (byTime != 0) return byTime;
                    var byAffinity = affinity[y].CompareTo(affinity[x]);
                    return byAffinity != 0 ? byAffinity : itemIx[x].CompareTo(itemIx[y]);
                });
                order.RemoveRange(options.MaxItemsPerUser, order.Count - options.MaxItemsPerUser);
            }
            pairs += (long)order.Count * (order.Count - 1) / 2;
            foreach (var e in order)
            {
                basketUser.Add(u);
                basketItem.Add(itemIx[e]);
            }
        }
        _baskets = Csr.FromTriples(users, items, basketUser.ToArray(), basketItem.ToArray(), new double[basketUser.Count]);
        _itemUsers = _baskets.Transpose();
        _users = withItems;
        Pairs = pairs;
        CappedUsers = capped;
    }

    public long Pairs { get; }
    public long CappedUsers { get; }

    /// <summary>Complete once <see cref="Run"/> has been enumerated to the end.</summary>
    public ItemSimilarityFacts Facts => new(Pairs, CappedUsers, _users, Interlocked.Read(ref _pairsWithSupport));

    /// <summary>Rows (item, similar item, similarity, extra = co-occurrence count, rank), item by item.</summary>
    public IEnumerable<TopKBlock> Run(int threads)
    {
        var measure = SimilarityMeasure.For(_options.Measure);
        var items = _itemUsers.Rows;
        return RowTopK.Run(items, _options.TopK, threads, () => new Scratch(items), (a, s, top) =>
        {
            s.Touched.Reset();
            var itemUsers = _itemUsers;
            var baskets = _baskets;
            for (var e = itemUsers.Offsets[a]; e < itemUsers.Offsets[a + 1]; e++)
            {
                var u = itemUsers.Columns[e];
                for (var f = baskets.Offsets[u]; f < baskets.Offsets[u + 1]; f++)
                {
                    var b = baskets.Columns[f];
                    if (b == a) continue;
                    if (s.Touched.Touch(b)) s.Counts[b] = 1;
                    else s.Counts[b]++;
                }
            }
            long na = itemUsers.RowLength(a), supported = 0;
            foreach (var b in s.Touched.Touched)
            {
                long c = s.Counts[b];
                if (c < _options.MinSupport) continue;
                if (b > a) supported++;
                top.Offer(b, measure(c, na, itemUsers.RowLength(b), _users), c);
            }
            Interlocked.Add(ref _pairsWithSupport, supported);
        });
    }

    private static double[] Indexes(int rows)
    {
        var result = new double[rows];
        for (var i = 0; i < rows; i++) result[i] = i;
        return result;
    }

    private sealed class Scratch(int items)
    {
        public TouchedColumns Touched { get; } = new(items);
        public int[] Counts { get; } = new int[items];
    }
}
