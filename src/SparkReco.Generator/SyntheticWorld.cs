using System.Globalization;

namespace SparkReco.Generator;

/// <summary>
/// The planted structure behind the data: who is in which community, which categories each community
/// likes, which items exist and how popular they are, who is a bot, how active each user is and when
/// people are online. Everything is drawn from the seed; events and follows are then sampled from it.
/// </summary>
internal sealed class SyntheticWorld
{
    /// <summary>Share of a normal user's events that fall in their community's preferred categories.</summary>
    public const double PreferredCategoryShare = 0.85;

    private SyntheticWorld(GeneratorOptions options)
    {
        Options = options;
    }

    public GeneratorOptions Options { get; }
    public string[] UserIds { get; private set; } = [];
    public string[] ItemIds { get; private set; } = [];
    public string[] CategoryNames { get; private set; } = [];
    public int[] UserCommunity { get; private set; } = [];
    public bool[] IsBot { get; private set; } = [];
    public int[] Bots { get; private set; } = [];
    public int[][] CommunityMembers { get; private set; } = [];
    public int[][] CommunityCategories { get; private set; } = [];
    public int[] ItemCategory { get; private set; } = [];
    public int[] ItemCreator { get; private set; } = [];

    /// <summary>Items of each category, most popular first (the Zipf rank order).</summary>
    public int[][] CategoryItems { get; private set; } = [];
    public AliasTable[] CategoryPopularity { get; private set; } = [];

    /// <summary>
    /// Users that are not bots, in activity-rank order, with what an event needs of them packed together
    /// (one memory access per event rather than three); <see cref="UserActivity"/> draws a rank.
    /// </summary>
    public ActiveUser[] ActiveUsers { get; private set; } = [];
    public AliasTable UserActivity { get; private set; } = null!;

    public static SyntheticWorld Build(GeneratorOptions options)
    {
        var world = new SyntheticWorld(options);
        var rng = new Xoshiro256(options.Seed, stream: 1);
        world.UserIds = Ids("u", options.Users);
        world.ItemIds = Ids("i", options.Items);
        world.CategoryNames = Ids("cat", options.Categories, digits: 2);
        world.PlantCommunities(rng);
        world.PickBots(rng);
        world.PlantCategoryPreferences(rng);
        world.PlantItems(rng);
        world.PlantActivity(rng);
        return world;
    }

    /// <summary>Ids are built once so the hot loop only copies references.</summary>
    private static string[] Ids(string prefix, int count, int digits = 6)
    {
        var format = "D" + digits.ToString(CultureInfo.InvariantCulture);
        var ids = new string[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = prefix + i.ToString(format, CultureInfo.InvariantCulture);
        }

        return ids;
    }

    private static int[] Permutation(Xoshiro256 rng, int count)
    {
        var order = new int[count];
        for (var i = 0; i < count; i++)
        {
            order[i] = i;
        }

        rng.Shuffle(order);
        return order;
    }

    /// <summary>Round-robin over a shuffled order: communities of (almost) equal size, members scattered over the id range.</summary>
    private void PlantCommunities(Xoshiro256 rng)
    {
        var communities = Options.Communities;
        UserCommunity = new int[Options.Users];
        var members = new List<int>[communities];
        for (var c = 0; c < communities; c++)
        {
            members[c] = [];
        }

        var order = Permutation(rng, Options.Users);
        for (var p = 0; p < order.Length; p++)
        {
            var community = p % communities;
            UserCommunity[order[p]] = community;
            members[community].Add(order[p]);
        }

        CommunityMembers = [.. members.Select(m => m.ToArray())];
    }

    private void PickBots(Xoshiro256 rng)
    {
        var order = Permutation(rng, Options.Users);
        Bots = order[..Options.Bots];
        Array.Sort(Bots);
        IsBot = new bool[Options.Users];
        foreach (var bot in Bots)
        {
            IsBot[bot] = true;
        }
    }

    /// <summary>Each community prefers 1–3 distinct categories.</summary>
    private void PlantCategoryPreferences(Xoshiro256 rng)
    {
        var categories = Options.Categories;
        CommunityCategories = new int[Options.Communities][];
        for (var c = 0; c < Options.Communities; c++)
        {
            var count = 1 + rng.NextInt(Math.Min(3, categories));
            var order = Permutation(rng, categories);
            CommunityCategories[c] = order[..count];
        }
    }

    /// <summary>
    /// Items are spread over categories round-robin in a shuffled order; that order is also the
    /// popularity rank within the category (Zipf, exponent 1). Creators are members of a community
    /// that likes the item's category, as on real platforms where people post about what they follow.
    /// </summary>
    private void PlantItems(Xoshiro256 rng)
    {
        var categories = Options.Categories;
        ItemCategory = new int[Options.Items];
        ItemCreator = new int[Options.Items];
        var items = new List<int>[categories];
        for (var k = 0; k < categories; k++)
        {
            items[k] = [];
        }

        var fans = new List<int>[categories];
        for (var k = 0; k < categories; k++)
        {
            fans[k] = [];
        }

        for (var c = 0; c < Options.Communities; c++)
        {
            foreach (var k in CommunityCategories[c])
            {
                fans[k].Add(c);
            }
        }

        var order = Permutation(rng, Options.Items);
        for (var p = 0; p < order.Length; p++)
        {
            var item = order[p];
            var category = p % categories;
            ItemCategory[item] = category;
            items[category].Add(item);
            ItemCreator[item] = fans[category].Count == 0
                ? rng.NextInt(Options.Users)
                : PickMember(rng, fans[category][rng.NextInt(fans[category].Count)]);
        }

        CategoryItems = [.. items.Select(i => i.ToArray())];
        CategoryPopularity = new AliasTable[categories];
        for (var k = 0; k < categories; k++)
        {
            var weights = new double[CategoryItems[k].Length];
            for (var rank = 0; rank < weights.Length; rank++)
            {
                weights[rank] = 1.0 / (rank + 1);
            }

            CategoryPopularity[k] = new AliasTable(weights);
        }
    }

    private int PickMember(Xoshiro256 rng, int community)
    {
        var members = CommunityMembers[community];
        return members[rng.NextInt(members.Length)];
    }

    /// <summary>
    /// Activity is Zipf-like over a random rank with an offset, 1/(rank + offset): a long tail of
    /// occasional users and a head of heavy users, without any single user dominating. Plain
    /// arithmetic (no Math.Pow/Exp) keeps the weights identical on every platform.
    /// </summary>
    private void PlantActivity(Xoshiro256 rng)
    {
        int[] ranked = [.. Enumerable.Range(0, Options.Users).Where(u => !IsBot[u])];
        rng.Shuffle(ranked);
        ActiveUsers = [.. ranked.Select(u => new ActiveUser(UserIds[u], UserCommunity[u]))];
        var offset = Math.Max(10.0, ActiveUsers.Length / 200.0);
        var weights = new double[ActiveUsers.Length];
        for (var rank = 0; rank < weights.Length; rank++)
        {
            weights[rank] = 1.0 / (rank + offset);
        }

        UserActivity = new AliasTable(weights);
    }
}

/// <summary>A non-bot user as the event loop needs it.</summary>
internal readonly record struct ActiveUser(string Id, int Community);
