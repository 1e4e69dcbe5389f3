using SparkReco.Core.Configuration;
using SparkReco.Core.Engine;
using SparkReco.Core.Stages;
using SparkReco.Kernels;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>
/// rec_user_scores: user-based candidates, the weighted average r̂(u, i) = Σ_v w(u, v) · a(v, i) / Σ_v |w(u, v)| over u's
/// top-K neighbours v (the denominator sums over all of u's neighbours, so an item only one neighbour has counts as 0
/// for the others); reason_ix is the neighbour with the largest term (ties: lowest id). Terms are summed on the user's <see cref="ScoreGrid"/> (exact, any order). Cut to the best N′ per user as
/// <see cref="CandidateCut"/> says. The embedded engine computes the same rows with <see cref="ScoreKernel.UserBased"/>.
/// </summary>
public sealed class UserBasedScoresStage(TableScope? scope = null) : MultiTableStage
{
    private readonly TableScope _scope = scope ?? TableScope.Main;

    public override string Name => _scope["rec_user_scores"];
    public override string Description => "one row per (user, candidate item), the best N′ per user: neighbour-weighted average of the neighbours' affinity, with the top contributing neighbour";
    public override IReadOnlyList<string> Inputs => [_scope["cf_affinity"], _scope["cf_user_neighbors"], _scope["item_popularity"]];
    protected override bool HasKernel => true;
    public override bool IsEnabled(StageContext context) => base.IsEnabled(context) && context.Settings.Recommend.Blends("user");
    public override string DisabledReason(StageContext context) =>
        base.IsEnabled(context) ? RecommendSettings.NotBlended("user") : base.DisabledReason(context);

    /// <summary>Neighbors:MaxItemsPerNeighbor, or 0 for no cap.</summary>
    private static int Cap(StageContext c) => c.Settings.Neighbors.MaxItemsPerNeighbor;

    public override WorkEstimate Estimate(StageContext c) => new(
        "user-based contributions",
        $"""
        -- {Name} work estimate: contributions w(u, v)·affinity(v, i), Σ over (u, v) of v's items{(Cap(c) > 0 ? $" (at most {Cap(c)} each)" : "")}.
        SELECT
            CAST(coalesce(sum({(Cap(c) > 0 ? $"least(a.items, {Cap(c)})" : "a.items")}), 0) AS BIGINT) AS contributions
        FROM {c.Q(_scope["cf_user_neighbors"])} AS n
        JOIN (
            SELECT
                user_ix,
                count(*) AS items
            FROM {c.Q(_scope["cf_affinity"])}
            GROUP BY
                user_ix
        ) AS a
            ON a.user_ix = n.neighbor_ix
        """,
        "Lower Neighbors:TopK or Neighbors:MaxItemsPerNeighbor.");

    public override IReadOnlyList<(string Table, string Select)> Steps(StageContext c) =>
    [
        (Name, $"""
            -- {Name}: one row per (user_ix, item_ix) candidate.
            -- score = sum over u's neighbours v of w(u, v) * affinity(v, item) / sum over u's neighbours of |w(u, v)|,
            -- {CandidateCut.Describe(c, "user")}; reason_ix = the neighbour with the largest term.{NeighborItemsNote(c)}
            {ScoreGridSql.Note}
            WITH {NeighborItems(c)}{WeightedNeighbors(c)}neighbor_weights AS (
                SELECT
                    user_ix,
                    {c.Dialect.ExactSum("abs(similarity)")} AS total_weight
                FROM {NeighborsTable(c)}
                GROUP BY
                    user_ix
            ),
            item_bounds AS (
                SELECT
                    user_ix AS source_ix,
                    max(abs(affinity)) AS largest
                FROM {NeighborItemsTable(c)}
                GROUP BY
                    user_ix
            ),
            user_scales AS (
            {ScoreGridSql.UserScales(c.Dialect, NeighborsTable(c), "similarity", "neighbor_ix", "item_bounds")}
            ),
            sums AS (
            {ScoreGridSql.SlicedSums(c.Dialect, "weighted_sum", "neighbor_ix", slice => $"""
                SELECT
                    n.user_ix,
                    a.item_ix,
                    n.neighbor_ix,
                    g.scale,
                    {ScoreGridSql.Units("n.similarity * a.affinity", "g.scale")} AS units
                FROM {NeighborsTable(c)} AS n
                JOIN user_scales AS g
                    ON g.user_ix = n.user_ix
                JOIN {NeighborItemsTable(c)} AS a
                    ON a.user_ix = n.neighbor_ix{(slice is null ? "" : $"\nWHERE n.user_ix {slice}")}
                """)}
            ),
            {CandidateCut.Render(c, _scope, "user", "weighted_sum", "s.weighted_sum / w.total_weight", $"""

                JOIN neighbor_weights AS w
                    ON w.user_ix = s.user_ix
            """)}
            """),
    ];

    private static string NeighborItemsNote(StageContext c) => Cap(c) > 0
        ? $"\n-- A neighbour lends only its {Cap(c)} highest-affinity items (ties: lowest item_ix), Neighbors:MaxItemsPerNeighbor."
        : "";

    /// <summary>Neighbors:WeightExponent (1 = the cosine itself).</summary>
    private static double Exponent(StageContext c) => c.Settings.Neighbors.WeightExponent;

    /// <summary>The neighbours with their weights: cf_user_neighbors, or the CTE of amplified weights.</summary>
    private string NeighborsTable(StageContext c) => Exponent(c) == 1.0 ? c.Q(_scope["cf_user_neighbors"]) : "weighted_neighbors";

    /// <summary>The CTE of each neighbour's weight sign(w)·|w|^p (Neighbors:WeightExponent), when p ≠ 1.</summary>
    private string WeightedNeighbors(StageContext c) => Exponent(c) == 1.0 ? "" : $"""
        weighted_neighbors AS (
            -- Neighbors:WeightExponent: each weight is sign(w)·|w|^{Exponent(c).ToString(System.Globalization.CultureInfo.InvariantCulture)}.
            SELECT
                user_ix,
                neighbor_ix,
                CASE WHEN similarity < {c.Dialect.Literal(0.0)} THEN -power(-similarity, {c.Dialect.Literal(Exponent(c))}) ELSE power(similarity, {c.Dialect.Literal(Exponent(c))}) END AS similarity
            FROM {c.Q(_scope["cf_user_neighbors"])}
        ),

        """;

    /// <summary>What a neighbour lends: the capped CTE, or every row of cf_affinity.</summary>
    private string NeighborItemsTable(StageContext c) => Cap(c) > 0 ? "neighbor_items" : c.Q(_scope["cf_affinity"]);

    /// <summary>The CTE of each user's items as a neighbour lends them: the top Neighbors:MaxItemsPerNeighbor by affinity.</summary>
    private string NeighborItems(StageContext c) => Cap(c) <= 0 ? "" : $"""
        neighbor_items AS (
            SELECT
                user_ix,
                item_ix,
                affinity
            FROM (
                SELECT
                    user_ix,
                    item_ix,
                    affinity,
                    row_number() OVER (
                        PARTITION BY user_ix
                        ORDER BY affinity DESC, item_ix ASC
                    ) AS item_rank
                FROM {c.Q(_scope["cf_affinity"])}
            ) AS ranked_items
            WHERE item_rank <= {Cap(c)}
        ),

        """;

    protected override async Task<long> RunKernelAsync(IEngine engine, StageContext c, CancellationToken ct)
    {
        var affinity = (await CfKernels.AffinityAsync(engine, c, _scope, ct)).Matrix;
        var (users, items) = (affinity.Rows, affinity.ColumnCount);
        var neighbors = (await CfKernels.RankedAsync(engine, c, _scope["cf_user_neighbors"], ("user_ix", "neighbor_ix", "similarity", "overlap"), users, users, ct)).Matrix;
        if (Exponent(c) != 1.0) neighbors = neighbors.MapValues(w => w < 0 ? -Math.Pow(-w, Exponent(c)) : Math.Pow(w, Exponent(c)));
        var options = await CandidateCut.OptionsAsync(engine, c, _scope, "user", items, ct);
        return await CandidateCut.WriteAsync(engine, c, Name, ScoreKernel.UserBased(affinity, Cap(c) > 0 ? affinity.TopPerRow(Cap(c)) : affinity, neighbors, options, c.Settings.Engine.Threads), users, items, ct);
    }
}
