using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>
/// rec_user_scores: user-based candidate scores, the weighted average r̂(u, i) = Σ_v w(u, v) · a(v, i) / Σ_v |w(u, v)|
/// over u's top-K neighbours v (the denominator sums over all of u's neighbours, so an item only one neighbour has
/// counts as 0 for the others). reason_id is the neighbour with the largest term (ties: lowest user id).
/// </summary>
public sealed class UserBasedScoresStage(TableScope? scope = null) : SqlStage
{
    private readonly TableScope _scope = scope ?? TableScope.Main;

    public override string Name => _scope["rec_user_scores"];
    public override string Description => "one row per (user, candidate item): neighbour-weighted average of the neighbours' affinity, with the top contributing neighbour";
    public override IReadOnlyList<string> Inputs => [_scope["affinity"], _scope["user_neighbors"]];

    public override string Render(StageContext c) =>
        $"""
        -- {Name}: one row per (user_id, item_id) some neighbour engaged with.
        -- score = sum over u's neighbours v of w(u, v) * affinity(v, item) / sum over u's neighbours of |w(u, v)|;
        -- reason_id = the neighbour with the largest term.
        WITH neighbor_weights AS (
            SELECT
                user_id,
                {c.Dialect.ExactSum("abs(similarity)")} AS total_weight
            FROM {c.Q(_scope["user_neighbors"])}
            GROUP BY
                user_id
        ),
        contributions AS (
            SELECT
                n.user_id,
                a.item_id,
                n.neighbor_id,
                n.similarity * a.affinity AS contribution
            FROM {c.Q(_scope["user_neighbors"])} AS n
            JOIN {c.Q(_scope["affinity"])} AS a
                ON a.user_id = n.neighbor_id
        ),
        weighted_sums AS (
            SELECT
                user_id,
                item_id,
                {c.Dialect.ExactSum("contribution")} AS weighted_sum,
                {c.Dialect.ArgMax("neighbor_id", "contribution")} AS reason_id
            FROM contributions
            GROUP BY
                user_id,
                item_id
        )
        SELECT
            s.user_id,
            s.item_id,
            s.weighted_sum / w.total_weight AS score,
            s.reason_id
        FROM weighted_sums AS s
        JOIN neighbor_weights AS w
            ON w.user_id = s.user_id
        WHERE s.weighted_sum > {c.Dialect.Literal(0.0)}
        """;
}
