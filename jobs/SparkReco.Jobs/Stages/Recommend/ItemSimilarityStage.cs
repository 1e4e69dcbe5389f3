using SparkReco.Core.Engine;
using SparkReco.Core.Stages;
using SparkReco.Kernels;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>
/// cf_item_similarity: the top-K most similar items per item on dense ids, from binarised co-occurrence (published
/// with the original ids as item_similarity).
/// Steps: cf_item_baskets (each user's items, capped at Similarity:MaxItemsPerUser: most recent first, then highest
/// affinity, then lowest item id) → cf_item_cooccurrence (pairs item_a &lt; item_b with at least MinSupport users) →
/// cf_item_similarity (the measure, both directions, top-K with ties broken by the lower similar item id).
/// The embedded engine computes the same rows with <see cref="ItemSimilarityKernel"/>.
/// Facts: pairs = (user, item_a &lt; item_b) rows the self-join generates, Σ_u m_u(m_u − 1)/2 with m_u the capped basket size.
/// </summary>
public sealed class ItemSimilarityStage(TableScope? scope = null) : MultiTableStage
{
    private readonly TableScope _scope = scope ?? TableScope.Main;

    public override string Name => _scope["cf_item_similarity"];
    public override string Description => "one row per (item_ix, similar_ix): top-K by the configured measure, with the raw co-occurrence count";
    public override IReadOnlyList<string> Inputs => [_scope["cf_affinity"]];
    protected override string FactPrefix => _scope["item_similarity"];
    protected override bool HasKernel => true;

    public string Baskets => _scope["cf_item_baskets"];
    public string Cooccurrence => _scope["cf_item_cooccurrence"];
    private string Affinity => _scope["cf_affinity"];

    public override IReadOnlyList<(string Table, string Select)> Steps(StageContext c) =>
    [
        (Baskets, RenderBaskets(c)),
        (Cooccurrence, RenderCooccurrence(c)),
        (Name, RenderSimilarity(c)),
    ];

    public override WorkEstimate Estimate(StageContext c) => new(
        "item pairs",
        $"""
        -- {Name} work estimate: item pairs the capped baskets generate, Σ_u m_u·(m_u − 1)/2 with m_u = min(items of u, {c.Settings.Similarity.MaxItemsPerUser}).
        SELECT
            CAST(coalesce(sum(basket_size * (basket_size - 1) / 2), 0) AS BIGINT) AS item_pairs
        FROM (
            SELECT
                least(count(*), {c.Dialect.Literal(c.Settings.Similarity.MaxItemsPerUser)}) AS basket_size
            FROM {c.Q(Affinity)}
            GROUP BY
                user_ix
        ) AS baskets
        """,
        "Lower Similarity:MaxItemsPerUser (the per-user cap), or clean out bots with Clean:BotMaxEventsPerUser.");

    public override IReadOnlyList<string> FactQueries(StageContext c) =>
    [
        $"""
        -- {Name} facts: pairs the co-occurrence self-join generates (Σ_u m_u·(m_u − 1)/2), users whose basket was capped,
        -- and pairs that reached the minimum support.
        SELECT
            CAST(sum(basket_size * (basket_size - 1)) / 2 AS BIGINT) AS pairs,
            sum(CASE WHEN items_before_cap > basket_size THEN 1 ELSE 0 END) AS capped_users,
            count(*) AS users,
            (SELECT count(*) FROM {c.Q(Cooccurrence)}) AS pairs_with_support
        FROM (
            SELECT
                b.user_ix,
                count(*) AS basket_size,
                max(n.items_before_cap) AS items_before_cap
            FROM {c.Q(Baskets)} AS b
            JOIN (
                SELECT
                    user_ix,
                    count(*) AS items_before_cap
                FROM {c.Q(Affinity)}
                GROUP BY
                    user_ix
            ) AS n
                ON n.user_ix = b.user_ix
            GROUP BY
                b.user_ix
        ) AS baskets
        """,
    ];

    protected override async Task<long> RunKernelAsync(IEngine engine, StageContext c, CancellationToken ct)
    {
        var affinity = await CfKernels.AffinityAsync(engine, c, _scope, ct);
        var s = c.Settings.Similarity;
        var kernel = new ItemSimilarityKernel(affinity.Matrix, affinity.LastSeconds, new ItemSimilarityOptions(s.Measure, s.MaxItemsPerUser, s.MinSupport, s.TopK, s.Rp3Alpha, s.Rp3Beta, s.Shrinkage));
        var items = affinity.Matrix.ColumnCount;
        var rows = await CfKernels.WriteAndKeepAsync(engine, c, Name, ("item_ix", "similar_ix", "similarity", "cooccurrence"), extraIsId: false,
            kernel.Run(c.Settings.Engine.Threads), items, items, s.TopK, keepExtras: false, ct);
        var facts = kernel.Facts;
        c.Facts[$"{FactPrefix}.pairs"] = facts.Pairs;
        c.Facts[$"{FactPrefix}.capped_users"] = facts.CappedUsers;
        c.Facts[$"{FactPrefix}.users"] = facts.Users;
        c.Facts[$"{FactPrefix}.pairs_with_support"] = facts.PairsWithSupport;
        return rows;
    }

    /// <summary>The capped baskets' SELECT (also the rows of EASE's XᵀX, <see cref="EaseStage"/>).</summary>
    internal string RenderBaskets(StageContext c) =>
        $"""
        -- {Baskets}: one row per (user_ix, item_ix) the user engaged with (binarised), at most
        -- {c.Settings.Similarity.MaxItemsPerUser} items per user: the most recent, then the highest affinity, then the lowest item id.
        SELECT
            user_ix,
            item_ix
        FROM (
            SELECT
                user_ix,
                item_ix,
                row_number() OVER (
                    PARTITION BY user_ix
                    ORDER BY last_event_time DESC, affinity DESC, item_ix ASC
                ) AS recency_rank
            FROM {c.Q(Affinity)}
        ) AS ranked_items
        WHERE recency_rank <= {c.Dialect.Literal(c.Settings.Similarity.MaxItemsPerUser)}
        """;

    private static bool Walks(StageContext c) => c.Settings.Similarity.Measure == SimilarityMeasure.Rp3Beta;

    private string RenderCooccurrence(StageContext c)
    {
        // In the dialect's slices by item_a (see ISqlDialect.AggregateSlices): a pair belongs to exactly one slice.
        var slices = c.Dialect.AggregateSlices;
        var selects = Enumerable.Range(0, slices).Select(slice => $"""
            SELECT
                a.item_ix AS item_a,
                b.item_ix AS item_b,
                count(*) AS cooccurrence{(Walks(c) ? $",\n    {c.Dialect.ExactSum("w.walk_weight")} AS walk_weight" : "")}
            FROM {c.Q(Baskets)} AS a
            JOIN {c.Q(Baskets)} AS b
                ON b.user_ix = a.user_ix
                AND a.item_ix < b.item_ix{(Walks(c) ? WalkWeights(c) : "")}{(slices > 1 ? $"\nWHERE a.item_ix % {slices} = {slice}" : "")}
            GROUP BY
                a.item_ix,
                b.item_ix
            HAVING count(*) >= {c.Dialect.Literal(c.Settings.Similarity.MinSupport)}
            """);
        return $"""
            -- {Cooccurrence}: one row per item pair (item_a < item_b) with the number of users who have both,
            -- kept when at least {c.Settings.Similarity.MinSupport} users do.{(Walks(c) ? "\n-- walk_weight (rp3beta) = the exact sum over those users of m_u^-α, m_u = the user's basket size." : "")}
            {string.Join("\nUNION ALL\n", selects)}
            """;
    }

    /// <summary>The join of each user's walk weight m_u^-α (rp3beta).</summary>
    private string WalkWeights(StageContext c) => $"""

        JOIN (
            SELECT
                user_ix,
                pow(CAST(count(*) AS DOUBLE), {c.Dialect.Literal(-c.Settings.Similarity.Rp3Alpha)}) AS walk_weight
            FROM {c.Q(Baskets)}
            GROUP BY
                user_ix
        ) AS w
            ON w.user_ix = a.user_ix
        """;

    private string RenderSimilarity(StageContext c)
    {
        var measure = c.Settings.Similarity.Measure;
        var walk = Walks(c) ? ",\n        walk_weight" : "";
        return $"""
            -- {Name}: one row per (item_ix, similar_ix), the {c.Settings.Similarity.TopK} most similar items per item by {measure}.
            -- From c = users with both items, n_a, n_b = users with each item, n_total = users with any item (all from {Baskets}).
            -- rank orders by similarity (highest first), ties by similar_ix (lowest first).
            WITH item_users AS (
                SELECT
                    item_ix,
                    count(*) AS n_users
                FROM {c.Q(Baskets)}
                GROUP BY
                    item_ix
            ),
            all_users AS (
                SELECT
                    count(DISTINCT user_ix) AS n_total
                FROM {c.Q(Baskets)}
            ),
            both_directions AS (
                SELECT
                    item_a AS item_ix,
                    item_b AS similar_ix,
                    cooccurrence{walk}
                FROM {c.Q(Cooccurrence)}
                UNION ALL
                SELECT
                    item_b AS item_ix,
                    item_a AS similar_ix,
                    cooccurrence{walk}
                FROM {c.Q(Cooccurrence)}
            ),
            contingency AS (
                SELECT
                    p.item_ix,
                    p.similar_ix,
                    p.cooccurrence,{(Walks(c) ? "\n        p.walk_weight," : "")}
                    a.n_users AS n_a,
                    b.n_users AS n_b,
                    t.n_total
                FROM both_directions AS p
                JOIN item_users AS a
                    ON a.item_ix = p.item_ix
                JOIN item_users AS b
                    ON b.item_ix = p.similar_ix
                CROSS JOIN all_users AS t
            ),
            scored AS (
                SELECT
                    item_ix,
                    similar_ix,
                    {Measure(c, measure)} AS similarity,
                    cooccurrence
                FROM contingency
            ),
            ranked AS (
                SELECT
                    item_ix,
                    similar_ix,
                    similarity,
                    cooccurrence,
                    row_number() OVER (
                        PARTITION BY item_ix
                        ORDER BY similarity DESC, similar_ix ASC
                    ) AS similarity_rank
                FROM scored
            )
            SELECT
                item_ix,
                similar_ix,
                similarity,
                cooccurrence,
                similarity_rank AS {c.Q("rank")}
            FROM ranked
            WHERE similarity_rank <= {c.Dialect.Literal(c.Settings.Similarity.TopK)}
            """;
    }

    /// <summary>The similarity expression over the contingency columns cooccurrence, n_a, n_b, n_total.</summary>
    private static string Measure(StageContext c, string measure)
    {
        static string D(string e) => $"CAST({e} AS DOUBLE)";
        return measure switch
        {
            "cooccurrence" => D("cooccurrence"),
            "jaccard" => $"{D("cooccurrence")} / {D("n_a + n_b - cooccurrence")}",
            "lift" => $"{D("cooccurrence * n_total")} / {D("n_a * n_b")} * {Shrink(c)}",
            "cosine" => $"{D("cooccurrence")} / sqrt({D("n_a * n_b")})",
            "inclusion" => $"{D("cooccurrence")} / {D("least(n_a, n_b)")} * {Shrink(c)}",
            "llr" => Llr(c),
            SimilarityMeasure.Rp3Beta =>
                $"walk_weight * pow({D("n_a")}, {c.Dialect.Literal(-c.Settings.Similarity.Rp3Alpha)}) / pow({D("n_b")}, {c.Dialect.Literal(c.Settings.Similarity.Rp3Beta)})",
            _ => throw new ArgumentOutOfRangeException(nameof(measure), measure, "Unknown similarity measure."),
        };
    }

    /// <summary>The support factor c / (c + λ) of lift and inclusion (<see cref="SimilarityMeasure.Shrink"/>, λ = Similarity:Shrinkage).</summary>
    private static string Shrink(StageContext c) =>
        $"(CAST(cooccurrence AS DOUBLE) / (CAST(cooccurrence AS DOUBLE) + {c.Dialect.Literal(c.Settings.Similarity.Shrinkage)}))";

    /// <summary>
    /// Dunning's log-likelihood ratio of the 2×2 table k11 = c, k12 = n_a − c, k21 = n_b − c, k22 = N − n_a − n_b + c:
    /// 2·(Σ k·ln k − Σ rows r·ln r − Σ columns s·ln s + N·ln N) (Mahout's entropy form), clamped at 0 against round-off.
    /// </summary>
    private static string Llr(StageContext c)
    {
        string XLogX(string e) => $"CASE WHEN {e} > 0 THEN CAST({e} AS DOUBLE) * {c.Dialect.Ln($"CAST({e} AS DOUBLE)")} ELSE {c.Dialect.Literal(0.0)} END";
        const string K11 = "cooccurrence", K12 = "(n_a - cooccurrence)", K21 = "(n_b - cooccurrence)", K22 = "(n_total - n_a - n_b + cooccurrence)";
        return $"""
            greatest(
                        {c.Dialect.Literal(0.0)},
                        {c.Dialect.Literal(2.0)} * (
                            {XLogX(K11)}
                            + {XLogX(K12)}
                            + {XLogX(K21)}
                            + {XLogX(K22)}
                            - {XLogX("n_a")}
                            - {XLogX("(n_total - n_a)")}
                            - {XLogX("n_b")}
                            - {XLogX("(n_total - n_b)")}
                            + {XLogX("n_total")}
                        )
                    )
            """;
    }
}
