namespace SparkReco.Core.Configuration;

/// <summary>Item-item similarity (item_similarity): measure, per-user cap, minimum support, top-K.</summary>
public sealed record SimilaritySettings(string Measure, int MaxItemsPerUser, int MinSupport, int TopK, double Rp3Alpha = 1.0, double Rp3Beta = 0.5, double Shrinkage = SimilaritySettings.DefaultShrinkage)
{
    /// <summary>The measures: all but rp3beta computed from c = co-occurrence, n_a, n_b = users per item, N = users.</summary>
    public static readonly string[] Measures = ["cooccurrence", "jaccard", "lift", "cosine", "llr", "inclusion", "rp3beta"];

    /// <summary>λ of the support factor c / (c + λ) of lift and inclusion; chosen on Last.fm (see the setting's description).</summary>
    public const double DefaultShrinkage = 50;

    public static SimilaritySettings Read(SettingsReader r) => new(
        r.GetString("Similarity:Measure", "jaccard",
            "How similar two items are, from c = users with both, n_a, n_b = users with each, N = users: cooccurrence = c; jaccard = c / (n_a + n_b - c); " +
            "lift = c·N / (n_a·n_b) · c / (c + λ); cosine = c / sqrt(n_a·n_b); llr = Dunning's log-likelihood ratio of the 2×2 table (as Mahout); inclusion = c / min(n_a, n_b) · c / (c + λ) (λ = Similarity:Shrinkage); " +
            "rp3beta = a random walk item → user → item with a popularity penalty: (Σ over users with both of m_u^-α) · n_a^-α / n_b^β, m_u = the user's basket size " +
            "(Similarity:Rp3Alpha, Similarity:Rp3Beta; asymmetric). On Last.fm rp3beta gives item-based nDCG@10 0.221 and blend 0.235 against jaccard's 0.217 and 0.227.",
            Measures),
        r.GetInt("Similarity:MaxItemsPerUser", 500,
            "Per-user cap on items used for co-occurrence (keeps pair generation linear for power users and bots); the most recent items are kept, then the highest affinity, then the lowest item id.",
            2, 1_000_000),
        r.GetInt("Similarity:MinSupport", 2, "Minimum number of users who engaged with both items for a pair to count.", 1),
        r.GetInt("Similarity:TopK", 50, "Similar items kept per item (ties: lower item id first).", 1, 10_000),
        r.GetDouble("Similarity:Rp3Alpha", 1.0, "rp3beta: exponent α of the walk's step probabilities (1 = a plain random walk; lower flattens the weight of users with small baskets).", 0, 4),
        r.GetDouble("Similarity:Rp3Beta", 0.5, "rp3beta: exponent β of the popularity penalty on the target item, n_b^β (0 = none).", 0, 4),
        r.GetDouble("Similarity:Shrinkage", DefaultShrinkage,
            "lift and inclusion: λ of the support factor c / (c + λ) the measure is multiplied by, so pairs few users share do not fill the top-K " +
            "(both measures peak on pairs of rare items); 0 = the raw measure, which is unsuitable for top-N. The other measures ignore it. " +
            "On Last.fm (item-based nDCG@10; popularity 0.083): lift 0.032 raw, 0.193 at 50, 0.201 at 100; inclusion 0.122 raw, 0.189 at 50, 0.200 at 5.",
            0, 1_000_000));
}

/// <summary>EASE, the item model of Recommend:ItemModel=ease: its regularisation and how many items the driver inverts.</summary>
public sealed record EaseSettings(double Lambda, int MaxItems)
{
    public static EaseSettings Read(SettingsReader r) => new(
        r.GetDouble("Ease:Lambda", 50,
            "Recommend:ItemModel=ease: λ of B = I − P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹; larger shrinks the weights of items few users have. In users (XᵀX counts them). " +
            "On Last.fm (item-based nDCG@10, 2,000 items fitted): 0.214 at 10, 0.223 at 50, 0.212 at 200, 0.196 at 500; with 4,000 items 0.231 at 50, 0.234 at 100.",
            1e-6, 1e9),
        r.GetInt("Ease:MaxItems", 2000,
            "Recommend:ItemModel=ease: the most popular items (by users) whose weights the driver fits; the others keep the similarity measure's top-K. " +
            "The fit is a dense n × n inverse on the driver (managed code): measured on 2 shared cores 4–11 s at 2,000 items, 233 s at 5,000, 1,598 s at 10,000; " +
            "the time grows as n³ (about 3.5 h at 20,000, extrapolated) and the memory as 2 × 8·n² bytes (6.4 GB at 20,000).",
            1, 50_000));
}

/// <summary>User-user neighbours (user_neighbors): popular-item cut-off, minimum overlap, top-K.</summary>
public sealed record NeighborSettings(int MaxUsersPerItem, int MinOverlap, int TopK, int MaxItemsPerNeighbor, double WeightExponent = 1.0, double PopularityPenalty = 0.0)
{
    public static NeighborSettings Read(SettingsReader r) => new(
        r.GetInt("Neighbors:MaxUsersPerItem", 1000,
            "Items with more users than this are left out of the neighbour computation (they connect everyone at quadratic cost); the number skipped is reported.",
            2),
        r.GetInt("Neighbors:MinOverlap", 2, "Minimum number of shared items for two users to be neighbours.", 1),
        r.GetInt("Neighbors:TopK", 50, "Neighbours kept per user (ties: lower user id first).", 1, 10_000),
        r.GetInt("Neighbors:MaxItemsPerNeighbor", 100,
            "Items each neighbour lends to user-based scores: its N highest-affinity items (ties: lowest item id); 0 = all. Neighbours are often the most active users, " +
            "so without a cap the user-based work grows with their history (141M instead of 57M contributions on the 1M-event benchmark). On Last.fm (≤ 50 artists per user) the cap does not bind; even 25 costs 0.6 % of user-based nDCG@10.",
            0, 1_000_000),
        r.GetDouble("Neighbors:WeightExponent", 1.0,
            "User-based scores weight each neighbour by its cosine raised to this power (sign kept), in the sum and in the denominator; above 1 the closest neighbours " +
            "count more (\"similarity amplification\"). user_neighbors keeps the plain cosine.",
            0.25, 10),
        r.GetDouble("Neighbors:PopularityPenalty", 0,
            "Extra popularity penalty γ on the user-based source only: its candidates are divided by (users of the item)^(β + γ), β = Recommend:PopularityPenalty. " +
            "Neighbours' items lean to the popular ones more than item-based similarities do (rp3beta already discounts popularity), so the user-based source may want more penalty than the item-based one.",
            0, 4));
}

/// <summary>The recommendations table: blend of item- and user-based scores, seen items, popularity back-fill.</summary>
public sealed record RecommendSettings(bool Enabled, int TopN, double ItemWeight, double UserWeight, bool RemoveSeen, bool Backfill, double PopularityPenalty, int CandidatesPerSource, string ItemModel = "similarity")
{
    /// <summary>The item–item tables the item-based scores can use: the similarity measure's, or EASE's.</summary>
    public static readonly string[] ItemModels = ["similarity", "ease"];

    /// <summary>Whether the item-based scores use EASE's weights (cf_item_ease) rather than item_similarity.</summary>
    public bool UsesEase => ItemModel == "ease";

    /// <summary>
    /// Whether the blend uses a recommender source ("item" or "user"): one whose weight is 0 is not computed at all (its score
    /// stage is skipped), since nothing would read it. The similarity and neighbour tables are published products of their own, so they still run.
    /// </summary>
    public bool Blends(string source) => (source == "item" ? ItemWeight : UserWeight) > 0;

    /// <summary>Why a stage of a source the blend does not use is skipped, for the run's log (names the setting).</summary>
    public static string NotBlended(string source) =>
        $"Recommend:{(source == "item" ? "Item" : "User")}Weight=0: the blend does not use {source}-based scores";

    /// <summary>N′: candidates kept per user and source before the blend (the setting, else twice the longest list asked for).</summary>
    public int Candidates(EvaluationSettings evaluation) =>
        CandidatesPerSource > 0 ? CandidatesPerSource : 2 * Math.Max(TopN, evaluation.Mode == "none" ? 0 : evaluation.K);

    public static RecommendSettings Read(SettingsReader r) => new(
        r.GetBool("Recommend:Enabled", true, "Run the collaborative-filtering stages (item_similarity, user_neighbors, recommendations); false leaves them and the evaluation out."),
        r.GetInt("Recommend:TopN", 20, "Recommendations per user.", 1, 1000),
        r.GetDouble("Recommend:ItemWeight", 0.5,
            "Weight of the item-based score in the blend; each source's scores are first divided by the user's maximum score from that source (so both lie in (0, 1]). " +
            "0 = the item-based scores are not computed (rec_item_scores is skipped, and the evaluation leaves the item source out); item_similarity is still published.", 0, 1000),
        r.GetDouble("Recommend:UserWeight", 0.5,
            "Weight of the user-based (neighbour) score in the blend, after the same per-user normalisation. " +
            "0 = the user-based scores are not computed (rec_user_scores is skipped, and the evaluation leaves the user source out); user_neighbors is still published.", 0, 1000),
        r.GetBool("Recommend:RemoveSeen", true, "Leave out items the user already engaged with."),
        r.GetBool("Recommend:Backfill", true, "Fill lists shorter than TopN (users with too few candidates) with the most popular items (decayed popularity: sum of affinity)."),
        r.GetDouble("Recommend:PopularityPenalty", 0,
            "Exponent β of the popularity penalty: each source's score is divided by (users of the item)^β before normalisation; 0 = off.", 0, 4),
        r.GetInt("Recommend:CandidatesPerSource", 0,
            "N′: candidates each source (item-based, user-based) keeps per user, best first, before the blend; 0 = twice the longest list asked for (TopN, or Evaluation:K when evaluating). The stages never materialise every neighbour × item contribution.",
            0, 100_000),
        r.GetString("Recommend:ItemModel", "similarity",
            "The item–item weights the item-based score Σ_j a(u, j)·w(j, i) uses: similarity = item_similarity (Similarity:Measure); ease = EASE's regression weights " +
            "for the Ease:MaxItems most popular items (the measure's for the rest), fitted on the driver from the engine's co-occurrence counts. item_similarity is published either way.",
            ItemModels));
}

/// <summary>Offline evaluation: how the hold-out is made and the cut-off K of the metrics.</summary>
public sealed record EvaluationSettings(string Mode, int TestDays, int K, string? TestEvents, double TestFraction, int Seed)
{
    public static readonly string[] Modes = ["none", "temporal", "random", "files"];

    public static EvaluationSettings Read(SettingsReader r)
    {
        var mode = r.GetString("Evaluation:Mode", "none",
            "Offline evaluation in run: none; temporal = train on events before as_of - TestDays, test on the events after; random = hold out TestFraction of each user's items (for data without meaningful times); files = train on Input:Events, test on Evaluation:TestEvents.",
            Modes);
        var testDays = r.GetInt("Evaluation:TestDays", 7, "Length of the temporal test period, ending at as_of.", 1, 100_000);
        var k = r.GetInt("Evaluation:K", 10, "Cut-off of the metrics (precision@K, recall@K, nDCG@K, MAP@K, hit rate, coverage).", 1, 1000);
        var testFraction = r.GetDouble("Evaluation:TestFraction", 0.2, "random mode: share of each user's (user, item) pairs held out for testing, chosen by md5 of seed, user and item.", 0.01, 0.9);
        var seed = r.GetInt("Evaluation:Seed", 42, "random mode: seed of the split; the same seed gives the same split on every engine.", 0);
        var testEvents = r.GetOptionalString("Evaluation:TestEvents", "Held-out events (Parquet, same columns as Input:Events) for Evaluation:Mode = files.");
        if (mode == "files" && testEvents is null)
            r.Problem("setting 'Evaluation:Mode' is 'files' but 'Evaluation:TestEvents' is empty; give the held-out events as Parquet (or use evaluate --train F --test F).");
        if (mode != "files" && testEvents is not null)
            r.Problem($"setting 'Evaluation:TestEvents' is only used when 'Evaluation:Mode' is 'files' (it is '{mode}'); remove it or set the mode to files.");
        return new EvaluationSettings(mode, testDays, k, testEvents, testFraction, seed);
    }
}
