namespace SparkReco.Kernels;

/// <summary>Settings of item_similarity, as the stage reads them (Alpha and Beta are rp3beta's exponents, Shrinkage the λ of lift and inclusion).</summary>
public sealed record ItemSimilarityOptions(string Measure, int MaxItemsPerUser, int MinSupport, int TopK, double Alpha = 1.0, double Beta = 0.5, double Shrinkage = 0);

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

    /// <param name="affinity">users × items affinity.</param>
    /// <param name="lastSeconds">Latest event time of each affinity entry (aligned with its entries) as seconds; orders the cap.</param>
    public ItemSimilarityKernel(Csr affinity, double[] lastSeconds, ItemSimilarityOptions options)
    {
        _options = options;
        var users = affinity.Rows;
        var items = affinity.ColumnCount;
        var start = affinity.Offsets;
        var itemIx = affinity.Columns;
        var values = affinity.Values;
        var byUser = new int[affinity.Entries];
        for (var e = 0; e < byUser.Length; e++) byUser[e] = e;

        var cap = options.MaxItemsPerUser;
        var offsets = new int[users + 1];
        for (var u = 0; u < users; u++) offsets[u + 1] = offsets[u] + Math.Min(cap, start[u + 1] - start[u]);
        var basketItems = new int[offsets[users]];
        var byRecency = Comparer<int>.Create((x, y) =>
        {
            var byTime = lastSeconds[y].CompareTo(lastSeconds[x]);
            if (byTime != 0) return byTime;
            var byAffinity = values[y].CompareTo(values[x]);
            return byAffinity != 0 ? byAffinity : itemIx[x].CompareTo(itemIx[y]);
        });
        long capped = 0, pairs = 0, withItems = 0;
        for (var u = 0; u < users; u++)
        {
            var n = start[u + 1] - start[u];
            if (n == 0) continue;
            withItems++;
            var group = byUser.AsSpan(start[u], n);
            if (n > cap)
            {
                capped++;
                group.Sort(byRecency);
            }
            var m = offsets[u + 1] - offsets[u];
            for (var e = 0; e < m; e++) basketItems[offsets[u] + e] = itemIx[group[e]];
            pairs += (long)m * (m - 1) / 2;
        }
        _baskets = Csr.FromOffsets(users, items, offsets, basketItems);
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
    public IEnumerable<TopKBlock> Run(int threads) =>
        _options.Measure == SimilarityMeasure.Rp3Beta ? RunRp3Beta(threads) : RunCounts(threads);

    private IEnumerable<TopKBlock> RunCounts(int threads)
    {
        var measure = SimilarityMeasure.For(_options.Measure, _options.Shrinkage);
        var items = _itemUsers.Rows;
        return RowTopK.Run(items, _options.TopK, threads, () => new Scratch(items), (a, s, top) =>
        {
            var itemUsers = _itemUsers;
            var offsets = _baskets.Offsets;
            var basketItems = _baskets.Columns;
            var counts = s.Counts;
            var touched = s.Touched;
            var n = 0;
            for (var e = itemUsers.Offsets[a]; e < itemUsers.Offsets[a + 1]; e++)
            {
                var u = itemUsers.Columns[e];
                for (var f = offsets[u]; f < offsets[u + 1]; f++)
                {
                    var b = basketItems[f];
                    if (counts[b]++ == 0) touched[n++] = b;
                }
            }
            long na = itemUsers.RowLength(a), supported = 0;
            counts[a] = 0; // a co-occurs with itself in every basket: not a candidate
            for (var t = 0; t < n; t++)
            {
                var b = touched[t];
                long c = counts[b];
                counts[b] = 0;
                if (b == a || c < _options.MinSupport) continue;
                if (b > a) supported++;
                top.Offer(b, measure(c, na, itemUsers.RowLength(b), _users), c);
            }
            Interlocked.Add(ref _pairsWithSupport, supported);
        });
    }

    /// <summary>
    /// rp3beta: the same walk over baskets, also adding each shared user's weight m_u^−α exactly (the SQL's exact sum of
    /// the same doubles), then <see cref="SimilarityMeasure.Rp3"/> of that walk weight. A separate copy of the loop rather
    /// than a flag inside it: the count-only measures (the default) keep their innermost loop free of the 128-bit sums.
    /// </summary>
    private IEnumerable<TopKBlock> RunRp3Beta(int threads)
    {
        var (alpha, beta) = (_options.Alpha, _options.Beta);
        var users = _baskets.Rows;
        var userTerms = new Int128[users];
        for (var u = 0; u < users; u++)
            if (_baskets.RowLength(u) > 0) userTerms[u] = ExactDecimalSum.Term(SimilarityMeasure.WalkWeight(_baskets.RowLength(u), alpha));
        var items = _itemUsers.Rows;
        return RowTopK.Run(items, _options.TopK, threads, () => new Scratch(items, walks: true), (a, s, top) =>
        {
            var itemUsers = _itemUsers;
            var offsets = _baskets.Offsets;
            var basketItems = _baskets.Columns;
            var counts = s.Counts;
            var walks = s.Walks;
            var touched = s.Touched;
            var n = 0;
            for (var e = itemUsers.Offsets[a]; e < itemUsers.Offsets[a + 1]; e++)
            {
                var u = itemUsers.Columns[e];
                var term = userTerms[u];
                for (var f = offsets[u]; f < offsets[u + 1]; f++)
                {
                    var b = basketItems[f];
                    if (counts[b]++ == 0)
                    {
                        touched[n++] = b;
                        walks[b] = term;
                    }
                    else
                    {
                        walks[b] += term;
                    }
                }
            }
            long na = itemUsers.RowLength(a), supported = 0;
            counts[a] = 0;
            for (var t = 0; t < n; t++)
            {
                var b = touched[t];
                long c = counts[b];
                counts[b] = 0;
                if (b == a || c < _options.MinSupport) continue;
                if (b > a) supported++;
                top.Offer(b, SimilarityMeasure.Rp3(ExactDecimalSum.ToDouble(walks[b]), na, itemUsers.RowLength(b), alpha, beta), c);
            }
            Interlocked.Add(ref _pairsWithSupport, supported);
        });
    }

    /// <summary>Counts per item (zero between rows), the list of items the row touched, and rp3beta's walk sums.</summary>
    private sealed class Scratch(int items, bool walks = false)
    {
        public int[] Counts { get; } = new int[items];
        public int[] Touched { get; } = new int[items];
        public Int128[] Walks { get; } = walks ? new Int128[items] : [];
    }
}
