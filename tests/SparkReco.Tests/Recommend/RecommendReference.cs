namespace SparkReco.Tests.Recommend;

/// <summary>
/// Reference for the recommendations table from its definition: per user, each source's candidates lose seen items,
/// are divided by users(item)^β and by the user's maximum, blended with the weights, cut at N, then back-filled with
/// popular unseen items. Returns each user's list in order (Id, Score, Count unused, Reason = "kind:id").
/// </summary>
public static class RecommendReference
{
    private static readonly StringComparer Ids = StringComparer.Ordinal;

    public sealed record Candidate(string User, string Item, double Score, string ReasonId);

    public static Dictionary<string, List<(string Item, double Score, string Source, string? ReasonId)>> Recommend(
        IReadOnlyList<AffinityRow> affinity, IReadOnlyList<Candidate> itemScores, IReadOnlyList<Candidate> userScores,
        double itemWeight, double userWeight, int topN, bool removeSeen, bool backfill, double beta)
    {
        var seen = affinity.GroupBy(r => r.User, Ids).ToDictionary(g => g.Key, g => g.Select(r => r.Item).ToHashSet(Ids), Ids);
        var usersOfItem = affinity.GroupBy(r => r.Item, Ids).ToDictionary(g => g.Key, g => (double)g.Count(), Ids);
        var popularity = affinity.GroupBy(r => r.Item, Ids).ToDictionary(g => g.Key, g => g.Sum(r => r.Affinity), Ids);
        var popular = popularity.Where(kv => kv.Value > 0).OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, Ids).ToList();
        var topPopularity = popular.Count == 0 ? 1 : popular[0].Value;

        Dictionary<string, (double Score, string Reason)> Normalised(IEnumerable<Candidate> candidates, string user)
        {
            var list = candidates.Where(x => x.User == user && !(removeSeen && seen[user].Contains(x.Item)))
                .Select(x => (x.Item, Score: x.Score / Math.Pow(usersOfItem[x.Item], beta), x.ReasonId)).ToList();
            if (list.Count == 0) return new Dictionary<string, (double, string)>(Ids);
            var max = list.Max(x => x.Score);
            return list.ToDictionary(x => x.Item, x => (x.Score / max, x.ReasonId), Ids);
        }

        var itemsByUser = itemScores.GroupBy(x => x.User, Ids).ToDictionary(g => g.Key, g => g.ToList(), Ids);
        var usersByUser = userScores.GroupBy(x => x.User, Ids).ToDictionary(g => g.Key, g => g.ToList(), Ids);
        var result = new Dictionary<string, List<(string, double, string, string?)>>(Ids);
        foreach (var user in seen.Keys)
        {
            var fromItems = itemWeight > 0 ? Normalised(itemsByUser.GetValueOrDefault(user) ?? [], user) : new(Ids);
            var fromUsers = userWeight > 0 ? Normalised(usersByUser.GetValueOrDefault(user) ?? [], user) : new(Ids);
            var blended = new List<(string Item, double Score, string Source, string? ReasonId)>();
            foreach (var item in fromItems.Keys.Union(fromUsers.Keys, Ids))
            {
                var hasItem = fromItems.TryGetValue(item, out var i);
                var hasUser = fromUsers.TryGetValue(item, out var u);
                var itemPart = hasItem ? itemWeight * i.Score : 0;
                var userPart = hasUser ? userWeight * u.Score : 0;
                var source = hasItem && hasUser ? "blend" : hasItem ? "item" : "user";
                var reason = itemPart >= userPart ? "item:" + i.Reason : "user:" + u.Reason;
                blended.Add((item, itemPart + userPart, source, reason));
            }
            var list = blended.OrderByDescending(x => x.Score).ThenBy(x => x.Item, Ids).Take(topN).ToList();
            if (backfill)
            {
                foreach (var (item, pop) in popular)
                {
                    if (list.Count >= topN) break;
                    if (removeSeen && seen[user].Contains(item)) continue;
                    if (list.Any(x => x.Item == item)) continue;
                    list.Add((item, pop / topPopularity, "popular", null));
                }
            }
            if (list.Count > 0) result[user] = list;
        }
        return result;
    }
}
