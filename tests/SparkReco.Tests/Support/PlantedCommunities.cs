namespace SparkReco.Tests.Support;

/// <summary>
/// Small synthetic data with known structure: users in communities, each engaging mostly with its own
/// item categories (and following mostly inside the community). Everything else (event types, times,
/// activity) is drawn from the same distribution for everyone, so only the planted signal separates them.
/// </summary>
public sealed class PlantedCommunities
{
    public required IReadOnlyList<TestEvent> Events { get; init; }
    public required IReadOnlyList<(string Item, string Category, string? Creator)> Items { get; init; }
    public required IReadOnlyList<(string Follower, string Followee)> Follows { get; init; }

    /// <summary>user id → community index.</summary>
    public required IReadOnlyDictionary<string, int> Community { get; init; }

    /// <param name="usersPerCommunity">users in each community (its length is the number of communities)</param>
    /// <param name="categoriesPerCommunity">community c prefers categories c·n … c·n + n − 1</param>
    /// <param name="ownShare">share of a user's events on its community's categories</param>
    /// <param name="noiseCategories">categories the off-community events are spread over (default: all of them)</param>
    public static PlantedCommunities Generate(IReadOnlyList<int> usersPerCommunity, int categoriesPerCommunity = 2, double ownShare = 0.85,
        int itemsPerCategory = 8, int seed = 7, int minEvents = 30, int maxEvents = 60, int days = 60, int? noiseCategories = null)
    {
        var random = new Random(seed);
        var categories = usersPerCommunity.Count * categoriesPerCommunity;
        var noise = noiseCategories ?? categories;
        var items = new List<(string Item, string Category, string? Creator)>();
        for (var c = 0; c < categories; c++)
            for (var i = 0; i < itemsPerCategory; i++)
                items.Add(($"item_{c:00}_{i:00}", $"category_{(char)('a' + c)}", null));
        string[] types = ["view", "view", "view", "view", "like", "like", "comment", "share"];
        var events = new List<TestEvent>();
        var community = new Dictionary<string, int>(StringComparer.Ordinal);
        var members = new List<List<string>>();
        var user = 0;
        for (var g = 0; g < usersPerCommunity.Count; g++)
        {
            members.Add([]);
            for (var u = 0; u < usersPerCommunity[g]; u++, user++)
            {
                var id = $"user_{user:0000}";
                community[id] = g;
                members[g].Add(id);
                var count = random.Next(minEvents, maxEvents + 1);
                for (var e = 0; e < count; e++)
                {
                    var category = random.NextDouble() < ownShare
                        ? g * categoriesPerCommunity + random.Next(categoriesPerCommunity)
                        : random.Next(noise);
                    var item = $"item_{category:00}_{random.Next(itemsPerCategory):00}";
                    var time = TestParquet.T0.AddSeconds(-random.Next(days * 86_400));
                    events.Add(new TestEvent(id, item, types[random.Next(types.Length)], time));
                }
            }
        }
        var follows = new List<(string, string)>();
        foreach (var group in members)
            foreach (var follower in group)
                for (var f = 0; f < 5; f++)
                {
                    var followee = group[random.Next(group.Count)];
                    if (followee != follower) follows.Add((follower, followee));
                }
        return new PlantedCommunities { Events = events, Items = items, Follows = follows.Distinct().ToList(), Community = community };
    }

    public async Task WriteAsync(string directory)
    {
        await TestParquet.WriteEventsAsync(Path.Combine(directory, "events.parquet"), Events);
        await TestParquet.WriteItemsAsync(Path.Combine(directory, "items.parquet"), Items);
        await TestParquet.WriteFollowsAsync(Path.Combine(directory, "follows.parquet"), Follows);
    }
}
