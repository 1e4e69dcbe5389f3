using SparkReco.Core.Engine;
using SparkReco.Core.Stages;
using SparkReco.Kernels;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>
/// rec_user_scores: user-based candidates, the weighted average r̂(u, i) = Σ_v w(u, v) · a(v, i) / Σ_v |w(u, v)| over u's
/// top-K neighbours v (the denominator sums over all of u's neighbours, so an item only one neighbour has counts as 0
/// for the others); reason_ix is the neighbour with the largest term (ties: lowest id). Cut to the best N′ per user as
/// <see cref="CandidateCut"/> says. The embedded engine computes the same rows with <see cref="ScoreKernel.UserBased"/>.
/// </summary>
public sealed class UserBasedScoresStage(TableScope? scope = null) : MultiTableStage
{
    private readonly TableScope _scope = scope ?? TableScope.Main;

    public override string Name => _scope["rec_user_scores"];
    public override string Description => "one row per (user, candidate item), the best N′ per user: neighbour-weighted average of the neighbours' affinity, with the top contributing neighbour";
    public override IReadOnlyList<string> Inputs => [_scope["cf_affinity"], _scope["cf_user_neighbors"], _scope["item_popularity"]];
    protected override bool HasKernel => true;

    public override WorkEstimate Estimate(StageContext c) => new(
        "user-based contributions",
        $"""
        -- {Name} work estimate: contributions w(u, v)·affinity(v, i), Σ over (u, v) of v's items.
        SELECT
            CAST(coalesce(sum(a.items), 0) AS BIGINT) AS contributions
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
        "Lower Neighbors:TopK.");

    public override IReadOnlyList<(string Table, string Select)> Steps(StageContext c) =>
    [
        (Name, $"""
            -- {Name}: one row per (user_ix, item_ix) candidate.
            -- score = sum over u's neighbours v of w(u, v) * affinity(v, item) / sum over u's neighbours of |w(u, v)|,
            -- {CandidateCut.Describe(c)}; reason_ix = the neighbour with the largest term.
            WITH neighbor_weights AS (
                SELECT
                    user_ix,
                    {c.Dialect.ExactSum("abs(similarity)")} AS total_weight
                FROM {c.Q(_scope["cf_user_neighbors"])}
                GROUP BY
                    user_ix
            ),
            contributions AS (
                SELECT
                    n.user_ix,
                    a.item_ix,
                    n.neighbor_ix,
                    n.similarity * a.affinity AS contribution
                FROM {c.Q(_scope["cf_user_neighbors"])} AS n
                JOIN {c.Q(_scope["cf_affinity"])} AS a
                    ON a.user_ix = n.neighbor_ix
            ),
            sums AS (
                SELECT
                    user_ix,
                    item_ix,
                    {c.Dialect.ExactSum("contribution")} AS weighted_sum,
                    {c.Dialect.ArgMax("neighbor_ix", "contribution")} AS reason_ix
                FROM contributions
                GROUP BY
                    user_ix,
                    item_ix
            ),
            {CandidateCut.Render(c, _scope, "weighted_sum", "s.weighted_sum / w.total_weight", $"""

                JOIN neighbor_weights AS w
                    ON w.user_ix = s.user_ix
            """)}
            """),
    ];

    protected override async Task<long> RunKernelAsync(IEngine engine, StageContext c, CancellationToken ct)
    {
        var affinity = (await CfKernels.AffinityAsync(engine, c, _scope, ct)).Matrix;
        var (users, items) = (affinity.Rows, affinity.ColumnCount);
        var neighbors = (await CfKernels.RankedAsync(engine, c, _scope["cf_user_neighbors"], ("user_ix", "neighbor_ix", "similarity", "overlap"), users, users, ct)).Matrix;
        var options = await CandidateCut.OptionsAsync(engine, c, _scope, items, ct);
        return await CandidateCut.WriteAsync(engine, c, Name, ScoreKernel.UserBased(affinity, neighbors, options, c.Settings.Engine.Threads), users, items, ct);
    }
}
