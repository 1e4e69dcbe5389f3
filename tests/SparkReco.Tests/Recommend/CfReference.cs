namespace SparkReco.Tests.Recommend;

/// <summary>A scored row of a ranked list: key (the list's owner), id (the ranked thing), score, and the count column.</summary>
public sealed record Scored(string Key, string Id, double Score, long Count = 0, string? Reason = null);

/// <summary>
/// Plain in-memory reference implementations of the CF stages, written from the definitions with loops and
/// dictionaries (no joins, no window functions): brute force over all pairs where the SQL uses an index.
/// Ranked outputs are returned in full (not cut at K), sorted by score descending then id, so tests can judge
/// near-ties at the cut.
/// </summary>
public static class CfReference
{
    private static readonly StringComparer Ids = StringComparer.Ordinal;

    /// <summary>Each user's basket: the user's items, at most <paramref name="cap"/>, most recent first, then highest affinity, then lowest id.</summary>
    public static Dictionary<string, List<string>> Baskets(IReadOnlyList<AffinityRow> affinity, int cap)
    {
        var baskets = new Dictionary<string, List<string>>(Ids);
        foreach (var group in affinity.GroupBy(r => r.User, Ids))
        {
            var items = group.ToList();
            items.Sort((x, y) =>
            {
                var byTime = y.LastEventTime.CompareTo(x.LastEventTime);
                if (byTime != 0) return byTime;
                var byAffinity = y.Affinity.CompareTo(x.Affinity);
                return byAffinity != 0 ? byAffinity : Ids.Compare(x.Item, y.Item);
            });
            baskets[group.Key] = items.Take(cap).Select(r => r.Item).ToList();
        }
        return baskets;
    }

    /// <summary>Number of (user, a &lt; b) pairs the basket self-join generates.</summary>
    public static long PairsGenerated(IReadOnlyList<AffinityRow> affinity, int cap) =>
        Baskets(affinity, cap).Values.Sum(b => (long)b.Count * (b.Count - 1) / 2);

    /// <summary>item → similar items with similarity and co-occurrence, full lists sorted (similarity desc, id asc).</summary>
    /// <remarks>rp3beta: walk(a, b) = Σ over users with both of |basket|^−α; similarity = walk · n_a^−α / n_b^β.</remarks>
    /// <remarks>lift and inclusion are multiplied by the support factor c / (c + <paramref name="shrinkage"/>).</remarks>
    public static Dictionary<string, List<Scored>> ItemSimilarity(IReadOnlyList<AffinityRow> affinity, string measure, int cap, int minSupport,
        double alpha = 1.0, double beta = 0.5, double shrinkage = 0)
    {
        var baskets = Baskets(affinity, cap);
        var usersOf = new Dictionary<string, int>(Ids);
        var together = new Dictionary<(string, string), long>();
        var walk = new Dictionary<(string, string), double>();
        foreach (var basket in baskets.Values)
        {
            foreach (var item in basket) usersOf[item] = usersOf.GetValueOrDefault(item) + 1;
            foreach (var a in basket)
                foreach (var b in basket)
                    if (Ids.Compare(a, b) != 0)
                    {
                        together[(a, b)] = together.GetValueOrDefault((a, b)) + 1; // both orders: (a, b) and (b, a)
                        walk[(a, b)] = walk.GetValueOrDefault((a, b)) + Math.Pow(basket.Count, -alpha);
                    }
        }
        double total = baskets.Count;
        var result = new Dictionary<string, List<Scored>>(Ids);
        foreach (var ((a, b), count) in together)
        {
            if (count < minSupport) continue;
            double c = count, na = usersOf[a], nb = usersOf[b];
            var similarity = measure switch
            {
                "cooccurrence" => c,
                "jaccard" => c / (na + nb - c),                                    // |A ∩ B| / |A ∪ B|
                "lift" => (c / total) / ((na / total) * (nb / total)) * (c / (c + shrinkage)),  // P(a, b) / (P(a) P(b)), shrunk
                "cosine" => c / (Math.Sqrt(na) * Math.Sqrt(nb)),                   // binary vectors
                "inclusion" => c / Math.Min(na, nb) * (c / (c + shrinkage)),
                "llr" => GSquared(c, na - c, nb - c, total - na - nb + c),
                "rp3beta" => walk[(a, b)] / Math.Pow(na, alpha) / Math.Pow(nb, beta),   // item → user → item, popular targets penalised
                _ => throw new ArgumentOutOfRangeException(nameof(measure)),
            };
            if (!result.TryGetValue(a, out var list)) result[a] = list = [];
            list.Add(new Scored(a, b, similarity, count));
        }
        foreach (var list in result.Values) SortRanked(list);
        return result;
    }

    /// <summary>
    /// The G² statistic of a 2×2 table, 2 Σ k ln(k / E) with E = row · column / N: the textbook form of Dunning's
    /// log-likelihood ratio (equal to Mahout's entropy form).
    /// </summary>
    public static double GSquared(double k11, double k12, double k21, double k22)
    {
        var n = k11 + k12 + k21 + k22;
        double[,] k = { { k11, k12 }, { k21, k22 } };
        double[] rows = [k11 + k12, k21 + k22], columns = [k11 + k21, k12 + k22];
        var g = 0.0;
        for (var i = 0; i < 2; i++)
            for (var j = 0; j < 2; j++)
                if (k[i, j] > 0) g += k[i, j] * Math.Log(k[i, j] * n / (rows[i] * columns[j]));
        return Math.Max(0, 2 * g);
    }

    /// <summary>user → neighbours by cosine of affinity vectors without items having more than maxUsersPerItem users.</summary>
    public static Dictionary<string, List<Scored>> Neighbors(IReadOnlyList<AffinityRow> affinity, int maxUsersPerItem, int minOverlap)
    {
        var positive = affinity.Where(r => r.Affinity > 0).ToList();
        var usersPerItem = positive.GroupBy(r => r.Item, Ids).ToDictionary(g => g.Key, g => g.Count(), Ids);
        var vectors = new Dictionary<string, Dictionary<string, double>>(Ids);
        foreach (var r in positive)
        {
            if (usersPerItem[r.Item] > maxUsersPerItem) continue;
            if (!vectors.TryGetValue(r.User, out var v)) vectors[r.User] = v = new Dictionary<string, double>(Ids);
            v[r.Item] = r.Affinity;
        }
        var users = vectors.Keys.ToList();
        var result = new Dictionary<string, List<Scored>>(Ids);
        foreach (var u in users)
        {
            foreach (var v in users)
            {
                if (u == v) continue;
                double dot = 0;
                long overlap = 0;
                foreach (var (item, au) in vectors[u])
                {
                    if (!vectors[v].TryGetValue(item, out var av)) continue;
                    dot += au * av;
                    overlap++;
                }
                if (overlap < minOverlap) continue;
                var similarity = dot / (Norm(vectors[u]) * Norm(vectors[v]));
                if (!result.TryGetValue(u, out var list)) result[u] = list = [];
                list.Add(new Scored(u, v, similarity, overlap));
            }
        }
        foreach (var list in result.Values) SortRanked(list);
        return result;
    }

    private static double Norm(Dictionary<string, double> vector) => Math.Sqrt(vector.Values.Sum(x => x * x));

    /// <summary>
    /// (user, item) → item-based score Σ_j a(u, j)·s(j, i) and the set of j that may be named as the reason: the largest
    /// term's, or any within the reason grid of the user's bound (see <see cref="Summarise"/>).
    /// </summary>
    public static Dictionary<(string User, string Item), (double Score, HashSet<string> Reasons)> ItemScores(
        IReadOnlyList<AffinityRow> affinity, IReadOnlyList<Scored> similarity)
    {
        var similarTo = similarity.GroupBy(s => s.Key, Ids).ToDictionary(g => g.Key, g => g.ToList(), Ids);
        var terms = new Dictionary<(string, string), List<(string Because, double Term)>>();
        var bounds = new Dictionary<string, (int Sources, double Largest)>(Ids);
        foreach (var row in affinity)
        {
            if (!similarTo.TryGetValue(row.Item, out var similar)) continue;
            var (sources, largest) = bounds.GetValueOrDefault(row.User);
            bounds[row.User] = (sources + 1, Math.Max(largest, Math.Abs(row.Affinity) * similar.Max(x => Math.Abs(x.Score))));
            foreach (var s in similar)
            {
                if (!terms.TryGetValue((row.User, s.Id), out var list)) terms[(row.User, s.Id)] = list = [];
                list.Add((row.Item, row.Affinity * s.Score));
            }
        }
        return Summarise(terms, divideBy: _ => 1.0, bound: user => bounds[user].Sources * bounds[user].Largest);
    }

    /// <summary>
    /// (user, item) → user-based score Σ_v w(u, v)·a(v, i) / Σ_v |w(u, v)| over u's neighbours, with the top neighbours;
    /// each neighbour lends at most <paramref name="itemsPerNeighbor"/> items (highest affinity, then lowest id; 0 = all);
    /// each weight is sign(w)·|w|^<paramref name="exponent"/>.
    /// </summary>
    public static Dictionary<(string User, string Item), (double Score, HashSet<string> Reasons)> UserScores(
        IReadOnlyList<AffinityRow> affinity, IReadOnlyList<Scored> neighbors, int itemsPerNeighbor, double exponent = 1.0)
    {
        neighbors = [.. neighbors.Select(n => n with { Score = Math.Sign(n.Score) * Math.Pow(Math.Abs(n.Score), exponent) })];
        var itemsOf = affinity.GroupBy(r => r.User, Ids).ToDictionary(g => g.Key,
            g => g.OrderByDescending(r => r.Affinity).ThenBy(r => r.Item, Ids).Take(itemsPerNeighbor > 0 ? itemsPerNeighbor : int.MaxValue).ToList(), Ids);
        var totalWeight = new Dictionary<string, double>(Ids);
        var terms = new Dictionary<(string, string), List<(string Because, double Term)>>();
        var bounds = new Dictionary<string, (int Sources, double Largest)>(Ids);
        foreach (var n in neighbors)
        {
            totalWeight[n.Key] = totalWeight.GetValueOrDefault(n.Key) + Math.Abs(n.Score);
            if (itemsOf.GetValueOrDefault(n.Id) is { Count: > 0 } lent)
            {
                var (sources, largest) = bounds.GetValueOrDefault(n.Key);
                bounds[n.Key] = (sources + 1, Math.Max(largest, Math.Abs(n.Score) * lent.Max(x => Math.Abs(x.Affinity))));
            }
            foreach (var row in itemsOf.GetValueOrDefault(n.Id) ?? [])
            {
                if (!terms.TryGetValue((n.Key, row.Item), out var list)) terms[(n.Key, row.Item)] = list = [];
                list.Add((n.Id, n.Score * row.Affinity));
            }
        }
        return Summarise(terms, user => totalWeight[user], bound: user => bounds[user].Sources * bounds[user].Largest);
    }

    /// <summary>
    /// Sums per (user, item), and the reasons that may be named: the definition compares terms on a grid of 2²¹ units of
    /// the user's score grid, i.e. 2⁻²⁹ to 2⁻³⁰ of the bound (sources × largest |term|), lowest id among equal keys, so
    /// any term within 2⁻²⁸ of the bound below the largest may be the one named (the reference does not round).
    /// </summary>
    private static Dictionary<(string User, string Item), (double Score, HashSet<string> Reasons)> Summarise(
        Dictionary<(string, string), List<(string Because, double Term)>> terms, Func<string, double> divideBy, Func<string, double> bound)
    {
        var result = new Dictionary<(string User, string Item), (double Score, HashSet<string> Reasons)>();
        foreach (var ((user, item), list) in terms)
        {
            var sum = list.Sum(t => t.Term);
            if (sum <= 0) continue;
            var best = list.Max(t => t.Term);
            var tolerance = Math.Max(1e-12 * Math.Abs(best), bound(user) * Math.Pow(2, -28));
            var reasons = list.Where(t => t.Term >= best - tolerance).Select(t => t.Because).ToHashSet(Ids);
            result[(user, item)] = (sum / divideBy(user), reasons);
        }
        return result;
    }

    /// <summary>The cut the candidate stages make: seen items out, divided by users(item)^β, the best N′ per user.</summary>
    public sealed record CandidateCut(bool RemoveSeen, double Beta, int Candidates);

    /// <summary>A user's candidate after the cut, with the reasons that may be named.</summary>
    public sealed record Candidate(string Item, double Score, HashSet<string> Reasons);

    /// <summary>
    /// Applies <paramref name="cut"/> to full candidate scores; each user's whole list is returned sorted (score desc, item asc),
    /// so a near-tie at the N′ boundary can be judged; callers compare the first N′.
    /// </summary>
    public static Dictionary<string, List<Candidate>> Cut(Dictionary<(string User, string Item), (double Score, HashSet<string> Reasons)> scores,
        IReadOnlyList<AffinityRow> affinity, CandidateCut cut)
    {
        var seen = affinity.Select(r => (r.User, r.Item)).ToHashSet();
        var usersOfItem = affinity.GroupBy(r => r.Item, Ids).ToDictionary(g => g.Key, g => (double)g.Count(), Ids);
        var result = new Dictionary<string, List<Candidate>>(Ids);
        foreach (var ((user, item), (score, reasons)) in scores)
        {
            if (cut.RemoveSeen && seen.Contains((user, item))) continue;
            var penalised = cut.Beta > 0 ? score / Math.Pow(usersOfItem[item], cut.Beta) : score;
            if (!result.TryGetValue(user, out var list)) result[user] = list = [];
            list.Add(new Candidate(item, penalised, reasons));
        }
        foreach (var list in result.Values)
            list.Sort((x, y) => y.Score != x.Score ? y.Score.CompareTo(x.Score) : Ids.Compare(x.Item, y.Item));
        return result;
    }

    /// <summary>Sorts a ranked list by score descending, then id ascending (ordinal).</summary>
    public static void SortRanked(List<Scored> list) =>
        list.Sort((x, y) => y.Score != x.Score ? y.Score.CompareTo(x.Score) : Ids.Compare(x.Id, y.Id));
}
