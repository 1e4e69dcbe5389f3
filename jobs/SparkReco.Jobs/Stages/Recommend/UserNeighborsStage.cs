using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>
/// user_neighbors: the top-K most similar users per user, by cosine of affinity vectors, found through the item
/// inverted index (only users who share an item are ever compared). Items with more than
/// Neighbors:MaxUsersPerItem users are left out of the vectors (they connect everyone at quadratic cost); the
/// cosine is that of the remaining vectors (norms included). Facts: skipped_items, pairs (user pairs u &lt; v the
/// index join generates, Σ_i n_i(n_i − 1)/2 over kept items).
/// </summary>
public sealed class UserNeighborsStage(TableScope? scope = null) : MultiTableStage
{
    private readonly TableScope _scope = scope ?? TableScope.Main;

    public override string Name => _scope["user_neighbors"];
    public override string Description => "one row per (user, neighbour): top-K by cosine of affinity vectors, with the number of shared items";
    public override IReadOnlyList<string> Inputs => [_scope["affinity"]];
    public override bool IsEnabled(StageContext context) => context.Settings.Recommend.Enabled;
    public override bool IsOutput => _scope == TableScope.Main;
    public override IReadOnlyList<string> OutputOrder => ["user_id", "rank"];
    public override IReadOnlyList<string> UserIdColumns => ["user_id", "neighbor_id"];

    public string Vectors => _scope["neighbor_vectors"];

    public override IReadOnlyList<(string Table, string Select)> Steps(StageContext c) =>
    [
        (Vectors, RenderVectors(c)),
        (Name, RenderNeighbors(c)),
    ];

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
                item_id,
                count(*) AS n_users
            FROM {c.Q(_scope["affinity"])}
            WHERE affinity > {c.Dialect.Literal(0.0)}
            GROUP BY
                item_id
        """;

    private string RenderVectors(StageContext c) =>
        $"""
        -- {Vectors}: one row per (user_id, item_id) with positive affinity, leaving out items with more than
        -- {c.Settings.Neighbors.MaxUsersPerItem} users; weight = affinity / the norm of the user's remaining vector (unit vectors).
        WITH item_user_counts AS (
            {ItemUserCounts(c)}
        ),
        kept AS (
            SELECT
                a.user_id,
                a.item_id,
                a.affinity
            FROM {c.Q(_scope["affinity"])} AS a
            JOIN item_user_counts AS n
                ON n.item_id = a.item_id
            WHERE a.affinity > {c.Dialect.Literal(0.0)}
                AND n.n_users <= {c.Dialect.Literal(c.Settings.Neighbors.MaxUsersPerItem)}
        ),
        norms AS (
            SELECT
                user_id,
                sqrt({c.Dialect.ExactSum("affinity * affinity")}) AS norm
            FROM kept
            GROUP BY
                user_id
        )
        SELECT
            k.user_id,
            k.item_id,
            k.affinity,
            k.affinity / n.norm AS weight
        FROM kept AS k
        JOIN norms AS n
            ON n.user_id = k.user_id
        """;

    private string RenderNeighbors(StageContext c)
    {
        var grid = c.Dialect.Literal(4503599627370496.0); // 2^52
        return $"""
        -- {Name}: one row per (user_id, neighbor_id), the {c.Settings.Neighbors.TopK} most similar users per user.
        -- similarity = cosine of the two users' vectors in {Vectors}; overlap = shared items (at least {c.Settings.Neighbors.MinOverlap}).
        -- rank orders by similarity (highest first), ties by neighbor_id (lowest first).
        -- Each term of the dot product of unit vectors is rounded to a multiple of 2^-52 (error below 1.2e-16): every
        -- partial sum is then exact, so the result does not depend on the order the engine adds the rows in.
        WITH pair_similarity AS (
            SELECT
                a.user_id AS user_a,
                b.user_id AS user_b,
                sum(round(a.weight * b.weight * {grid}) / {grid}) AS similarity,
                count(*) AS overlap
            FROM {c.Q(Vectors)} AS a
            JOIN {c.Q(Vectors)} AS b
                ON b.item_id = a.item_id
                AND a.user_id < b.user_id
            GROUP BY
                a.user_id,
                b.user_id
            HAVING count(*) >= {c.Dialect.Literal(c.Settings.Neighbors.MinOverlap)}
        ),
        both_directions AS (
            SELECT
                user_a AS user_id,
                user_b AS neighbor_id,
                similarity,
                overlap
            FROM pair_similarity
            UNION ALL
            SELECT
                user_b AS user_id,
                user_a AS neighbor_id,
                similarity,
                overlap
            FROM pair_similarity
        ),
        ranked AS (
            SELECT
                user_id,
                neighbor_id,
                similarity,
                overlap,
                row_number() OVER (
                    PARTITION BY user_id
                    ORDER BY similarity DESC, neighbor_id ASC
                ) AS neighbor_rank
            FROM both_directions
        )
        SELECT
            user_id,
            neighbor_id,
            similarity,
            overlap,
            neighbor_rank AS {c.Q("rank")}
        FROM ranked
        WHERE neighbor_rank <= {c.Dialect.Literal(c.Settings.Neighbors.TopK)}
        """;
    }
}
