using SparkReco.Core.Engine;
using SparkReco.Core.Stages;
using SparkReco.Kernels;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>
/// cf_user_neighbors (published with the original ids as user_neighbors): the top-K most similar users per user, by cosine of affinity vectors, found through the item
/// inverted index (only users who share an item are ever compared). Items with more than
/// Neighbors:MaxUsersPerItem users are left out of the vectors (they connect everyone at quadratic cost); the
/// cosine is that of the remaining vectors (norms included). Facts: skipped_items, pairs (user pairs u &lt; v the
/// index join generates, Σ_i n_i(n_i − 1)/2 over kept items). The embedded engine computes the same rows from the same
/// vectors with <see cref="NeighborKernel"/>.
/// </summary>
public sealed class UserNeighborsStage(TableScope? scope = null) : MultiTableStage
{
    private readonly TableScope _scope = scope ?? TableScope.Main;

    public override string Name => _scope["cf_user_neighbors"];
    public override string Description => "one row per (user_ix, neighbor_ix): top-K by cosine of affinity vectors, with the number of shared items";
    public override IReadOnlyList<string> Inputs => [_scope["cf_affinity"]];
    protected override string FactPrefix => _scope["user_neighbors"];
    protected override bool HasKernel => true;

    public string Vectors => _scope["cf_neighbor_vectors"];
    private string Affinity => _scope["cf_affinity"];

    public override IReadOnlyList<(string Table, string Select)> Steps(StageContext c) =>
    [
        (Vectors, RenderVectors(c)),
        (Name, RenderNeighbors(c)),
    ];

    public override WorkEstimate Estimate(StageContext c) => new(
        "user pairs",
        $"""
        -- {Name} work estimate: user pairs the item index generates, Σ_i n_i·(n_i − 1)/2 over items with at most {c.Settings.Neighbors.MaxUsersPerItem} users.
        SELECT
            CAST(coalesce(sum(n_users * (n_users - 1) / 2), 0) AS BIGINT) AS user_pairs
        FROM (
            {ItemUserCounts(c)}
        ) AS item_user_counts
        WHERE n_users <= {c.Dialect.Literal(c.Settings.Neighbors.MaxUsersPerItem)}
        """,
        "Lower Neighbors:MaxUsersPerItem (popular items connect everyone).");

    protected override async Task<long> RunKernelAsync(IEngine engine, StageContext c, CancellationToken ct)
    {
        // The kernel builds the same unit vectors as the SQL's first step, bit for bit, from the affinity it already holds.
        var affinity = (await CfKernels.AffinityAsync(engine, c, _scope, ct)).Matrix;
        var users = affinity.Rows;
        var vectors = NeighborKernel.UnitVectors(affinity, c.Settings.Neighbors.MaxUsersPerItem);
        var n = c.Settings.Neighbors;
        var kernel = new NeighborKernel(vectors, n.MinOverlap, n.TopK);
        var rows = await CfKernels.WriteAndKeepAsync(engine, c, Name, ("user_ix", "neighbor_ix", "similarity", "overlap"), extraIsId: false,
            kernel.Run(c.Settings.Engine.Threads), users, users, n.TopK, keepExtras: false, ct);
        await RunFactQueriesAsync(engine, c, ct);
        return rows;
    }

    public override IReadOnlyList<string> FactQueries(StageContext c) =>
    [
        $"""
        -- {Name} facts: items left out for having more than {c.Settings.Neighbors.MaxUsersPerItem} users, and the user pairs
        -- the inverted-index join generates over the kept items.
        SELECT
            sum(CASE WHEN n_users > {c.Dialect.Literal(c.Settings.Neighbors.MaxUsersPerItem)} THEN 1 ELSE 0 END) AS skipped_items,
            CAST(sum(CASE WHEN n_users <= {c.Dialect.Literal(c.Settings.Neighbors.MaxUsersPerItem)} THEN n_users * (n_users - 1) ELSE 0 END) / 2 AS BIGINT) AS pairs
        FROM (
            {ItemUserCounts(c)}
        ) AS item_user_counts
        """,
    ];

    private string ItemUserCounts(StageContext c) =>
        $"""
        SELECT
                item_ix,
                count(*) AS n_users
            FROM {c.Q(Affinity)}
            WHERE affinity > {c.Dialect.Literal(0.0)}
            GROUP BY
                item_ix
        """;

    private string RenderVectors(StageContext c) =>
        $"""
        -- {Vectors}: one row per (user_ix, item_ix) with positive affinity, leaving out items with more than
        -- {c.Settings.Neighbors.MaxUsersPerItem} users; weight = affinity / the norm of the user's remaining vector (unit vectors).
        WITH item_user_counts AS (
            {ItemUserCounts(c)}
        ),
        kept AS (
            SELECT
                a.user_ix,
                a.item_ix,
                a.affinity
            FROM {c.Q(Affinity)} AS a
            JOIN item_user_counts AS n
                ON n.item_ix = a.item_ix
            WHERE a.affinity > {c.Dialect.Literal(0.0)}
                AND n.n_users <= {c.Dialect.Literal(c.Settings.Neighbors.MaxUsersPerItem)}
        ),
        norms AS (
            SELECT
                user_ix,
                sqrt({c.Dialect.ExactSum("affinity * affinity")}) AS norm
            FROM kept
            GROUP BY
                user_ix
        )
        SELECT
            k.user_ix,
            k.item_ix,
            k.affinity,
            k.affinity / n.norm AS weight
        FROM kept AS k
        JOIN norms AS n
            ON n.user_ix = k.user_ix
        """;

    /// <summary>
    /// The pair aggregate: every user pair (a &lt; b) sharing kept items, with the rounded dot product and the overlap; in
    /// the dialect's <see cref="Core.Sql.ISqlDialect.AggregateSlices"/> slices by user_a, joined with UNION ALL (a pair
    /// belongs to exactly one slice, so the rows are the same).
    /// </summary>
    private string PairSlices(StageContext c, string grid)
    {
        var slices = c.Dialect.AggregateSlices;
        return string.Join("\n    UNION ALL\n", Enumerable.Range(0, slices).Select(slice => $"""
                SELECT
                    a.user_ix AS user_a,
                    b.user_ix AS user_b,
                    sum(round(a.weight * b.weight * {grid}) / {grid}) AS similarity,
                    count(*) AS overlap
                FROM {c.Q(Vectors)} AS a
                JOIN {c.Q(Vectors)} AS b
                    ON b.item_ix = a.item_ix
                    AND a.user_ix < b.user_ix{(slices > 1 ? $"\n    WHERE a.user_ix % {slices} = {slice}" : "")}
                GROUP BY
                    a.user_ix,
                    b.user_ix
                HAVING count(*) >= {c.Dialect.Literal(c.Settings.Neighbors.MinOverlap)}
            """));
    }

    private string RenderNeighbors(StageContext c)
    {
        var grid = c.Dialect.Literal(4503599627370496.0); // 2^52
        return $"""
        -- {Name}: one row per (user_ix, neighbor_ix), the {c.Settings.Neighbors.TopK} most similar users per user.
        -- similarity = cosine of the two users' vectors in {Vectors}; overlap = shared items (at least {c.Settings.Neighbors.MinOverlap}).
        -- rank orders by similarity (highest first), ties by neighbor_ix (lowest first).
        -- Each term of the dot product of unit vectors is rounded to a multiple of 2^-52 (error below 1.2e-16): every
        -- partial sum is then exact, so the result does not depend on the order the engine adds the rows in.
        WITH pair_similarity AS (
        {PairSlices(c, grid)}
        ),
        both_directions AS (
            SELECT
                user_a AS user_ix,
                user_b AS neighbor_ix,
                similarity,
                overlap
            FROM pair_similarity
            UNION ALL
            SELECT
                user_b AS user_ix,
                user_a AS neighbor_ix,
                similarity,
                overlap
            FROM pair_similarity
        ),
        ranked AS (
            SELECT
                user_ix,
                neighbor_ix,
                similarity,
                overlap,
                row_number() OVER (
                    PARTITION BY user_ix
                    ORDER BY similarity DESC, neighbor_ix ASC
                ) AS neighbor_rank
            FROM both_directions
        )
        SELECT
            user_ix,
            neighbor_ix,
            similarity,
            overlap,
            neighbor_rank AS {c.Q("rank")}
        FROM ranked
        WHERE neighbor_rank <= {c.Dialect.Literal(c.Settings.Neighbors.TopK)}
        """;
    }
}
