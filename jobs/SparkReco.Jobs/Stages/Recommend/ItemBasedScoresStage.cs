using SparkReco.Core.Configuration;
using SparkReco.Core.Engine;
using SparkReco.Core.Stages;
using SparkReco.Kernels;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>
/// rec_item_scores: item-based (SAR) candidates, score(u, i) = Σ_j a(u, j) · s(j, i) over the user's items j and the
/// items i in j's top-K similar items (s: cf_item_similarity, or EASE's cf_item_ease with Recommend:ItemModel=ease); reason_ix is the j with the largest term (ties: lowest id). Terms are summed on the user's <see cref="ScoreGrid"/> (exact, any order). Cut to the best N′
/// per user as <see cref="CandidateCut"/> says. The embedded engine computes the same rows with <see cref="ScoreKernel.ItemBased"/>.
/// </summary>
public sealed class ItemBasedScoresStage(TableScope? scope = null) : MultiTableStage
{
    private readonly TableScope _scope = scope ?? TableScope.Main;

    public override string Name => _scope["rec_item_scores"];
    public override string Description => "one row per (user, candidate item), the best N′ per user: item-based score Σ_j affinity(u, j)·similarity(j, i), with the top contributing item";
    public override IReadOnlyList<string> Inputs => [_scope["cf_affinity"], _scope["cf_item_similarity"], _scope["cf_item_ease"], _scope["item_popularity"]];

    /// <summary>The item–item weights scored with: item_similarity's, or EASE's with Recommend:ItemModel=ease (same columns).</summary>
    private string Weights(StageContext c) => _scope[c.Settings.Recommend.UsesEase ? "cf_item_ease" : "cf_item_similarity"];

    public override bool Reads(string input, StageContext context) =>
        (input != _scope["cf_item_similarity"] && input != _scope["cf_item_ease"]) || input == Weights(context);
    protected override bool HasKernel => true;
    public override bool IsEnabled(StageContext context) => base.IsEnabled(context) && context.Settings.Recommend.Blends("item");
    public override string DisabledReason(StageContext context) =>
        base.IsEnabled(context) ? RecommendSettings.NotBlended("item") : base.DisabledReason(context);

    public override WorkEstimate Estimate(StageContext c) => new(
        "item-based contributions",
        $"""
        -- {Name} work estimate: contributions affinity(u, j)·similarity(j, i), Σ over (u, j) of j's similar items.
        SELECT
            CAST(coalesce(sum(s.similar_items), 0) AS BIGINT) AS contributions
        FROM {c.Q(_scope["cf_affinity"])} AS a
        JOIN (
            SELECT
                item_ix,
                count(*) AS similar_items
            FROM {c.Q(Weights(c))}
            GROUP BY
                item_ix
        ) AS s
            ON s.item_ix = a.item_ix
        """,
        "Lower Similarity:TopK, or Similarity:MaxItemsPerUser.");

    public override IReadOnlyList<(string Table, string Select)> Steps(StageContext c) =>
    [
        (Name, $"""
            -- {Name}: one row per (user_ix, item_ix) candidate.
            -- score = sum over the user's items j of affinity(u, j) * similarity(j, item), {CandidateCut.Describe(c, "item")};
            -- reason_ix = the j with the largest term.
            {ScoreGridSql.Note}
            WITH weight_bounds AS (
                SELECT
                    item_ix AS source_ix,
                    max(abs(similarity)) AS largest
                FROM {c.Q(Weights(c))}
                GROUP BY
                    item_ix
            ),
            user_scales AS (
            {ScoreGridSql.UserScales(c.Dialect, c.Q(_scope["cf_affinity"]), "affinity", "item_ix", "weight_bounds")}
            ),
            sums AS (
            {ScoreGridSql.SlicedSums(c.Dialect, "score", "because_ix", slice => $"""
                SELECT
                    a.user_ix,
                    s.similar_ix AS item_ix,
                    a.item_ix AS because_ix,
                    g.scale,
                    {ScoreGridSql.Units("a.affinity * s.similarity", "g.scale")} AS units
                FROM {c.Q(_scope["cf_affinity"])} AS a
                JOIN user_scales AS g
                    ON g.user_ix = a.user_ix
                JOIN {c.Q(Weights(c))} AS s
                    ON s.item_ix = a.item_ix{(slice is null ? "" : $"\nWHERE a.user_ix {slice}")}
                """)}
            ),
            {CandidateCut.Render(c, _scope, "item", "score", "s.score")}
            """),
    ];

    protected override async Task<long> RunKernelAsync(IEngine engine, StageContext c, CancellationToken ct)
    {
        var affinity = (await CfKernels.AffinityAsync(engine, c, _scope, ct)).Matrix;
        var items = affinity.ColumnCount;
        var similarity = (await CfKernels.RankedAsync(engine, c, Weights(c), ("item_ix", "similar_ix", "similarity", "cooccurrence"), items, items, ct)).Matrix;
        var options = await CandidateCut.OptionsAsync(engine, c, _scope, "item", items, ct);
        return await CandidateCut.WriteAsync(engine, c, Name, ScoreKernel.ItemBased(affinity, similarity, options, c.Settings.Engine.Threads), affinity.Rows, items, ct);
    }
}
