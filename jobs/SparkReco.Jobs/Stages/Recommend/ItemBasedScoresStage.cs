using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>
/// rec_item_scores: item-based (SAR) candidate scores, score(u, i) = Σ_j a(u, j) · s(j, i) over the user's items j
/// and the items i in j's top-K similar items. reason_id is the j that contributed most (ties: lowest item id).
/// Seen items are still in; the recommendations stage removes them.
/// </summary>
public sealed class ItemBasedScoresStage(TableScope? scope = null) : SqlStage
{
    private readonly TableScope _scope = scope ?? TableScope.Main;

    public override string Name => _scope["rec_item_scores"];
    public override string Description => "one row per (user, candidate item): item-based score Σ_j affinity(u, j)·similarity(j, i), with the top contributing item";
    public override IReadOnlyList<string> Inputs => [_scope["affinity"], _scope["item_similarity"]];

    public override string Render(StageContext c) =>
        $"""
        -- {Name}: one row per (user_id, item_id) reachable through item similarity.
        -- score = sum over the user's items j of affinity(u, j) * similarity(j, item); reason_id = the j with the largest term.
        WITH contributions AS (
            SELECT
                a.user_id,
                s.similar_item_id AS item_id,
                a.item_id AS because_item_id,
                a.affinity * s.similarity AS contribution
            FROM {c.Q(_scope["affinity"])} AS a
            JOIN {c.Q(_scope["item_similarity"])} AS s
                ON s.item_id = a.item_id
        ),
        scores AS (
            SELECT
                user_id,
                item_id,
                {c.Dialect.ExactSum("contribution")} AS score,
                {c.Dialect.ArgMax("because_item_id", "contribution")} AS reason_id
            FROM contributions
            GROUP BY
                user_id,
                item_id
        )
        SELECT
            s.user_id,
            s.item_id,
            s.score,
            s.reason_id
        FROM scores AS s
        WHERE s.score > {c.Dialect.Literal(0.0)}
        """;
}
