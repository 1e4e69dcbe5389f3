using SparkReco.Core.Engine;
using SparkReco.Core.Stages;
using SparkReco.Kernels;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>
/// The cut both candidate stages make before the blend, in SQL and in the kernel alike: keep positive sums, remove the
/// user's seen items (Recommend:RemoveSeen), divide by users(item)^β (Recommend:PopularityPenalty), keep the best N′ per
/// user (Recommend:CandidatesPerSource; ties: lowest item first). So no stage materialises every contribution.
/// </summary>
internal static class CandidateCut
{
    /// <summary>
    /// The CTEs <c>candidates</c> and <c>ranked</c> and the final SELECT over a CTE <c>sums</c> with columns user_ix,
    /// item_ix, <paramref name="sumColumn"/> and reason_ix; <paramref name="score"/> is the score before the penalty
    /// (an expression over <c>s</c> and <paramref name="extraJoin"/>).
    /// </summary>
    public static string Render(StageContext c, TableScope scope, string source, string sumColumn, string score, string extraJoin = "")
    {
        var d = c.Dialect;
        var r = c.Settings.Recommend;
        var beta = Beta(c, source);
        var penalised = beta > 0 ? $"{score} / power(CAST(p.users AS DOUBLE), {d.Literal(beta)})" : score;
        var popularityJoin = beta > 0
            ? $"""

                JOIN {c.Q(scope["item_popularity"])} AS p
                    ON p.item_ix = s.item_ix
            """
            : "";
        var seenJoin = r.RemoveSeen
            ? $"""

                LEFT JOIN {c.Q(scope["cf_affinity"])} AS seen
                    ON seen.user_ix = s.user_ix
                    AND seen.item_ix = s.item_ix
            """
            : "";
        var seenCondition = r.RemoveSeen ? "\n        AND seen.item_ix IS NULL" : "";
        return $"""
            candidates AS (
                SELECT
                    s.user_ix,
                    s.item_ix,
                    {penalised} AS score,
                    s.reason_ix
                FROM sums AS s{extraJoin}{seenJoin}{popularityJoin}
                WHERE s.{sumColumn} > {d.Literal(0.0)}{seenCondition}
            ),
            ranked AS (
                SELECT
                    user_ix,
                    item_ix,
                    score,
                    reason_ix,
                    row_number() OVER (
                        PARTITION BY user_ix
                        ORDER BY score DESC, item_ix ASC
                    ) AS candidate_rank
                FROM candidates
            )
            SELECT
                user_ix,
                item_ix,
                score,
                reason_ix,
                candidate_rank AS {c.Q("rank")}
            FROM ranked
            WHERE candidate_rank <= {d.Literal(r.Candidates(c.Settings.Evaluation))}
            """;
    }

    /// <summary>One line for the SQL header: what the cut does with these settings.</summary>
    public static string Describe(StageContext c, string source)
    {
        var r = c.Settings.Recommend;
        var beta = Beta(c, source);
        return $"kept when positive{(r.RemoveSeen ? ", seen items removed" : "")}{(beta > 0 ? $", divided by users(item)^{beta.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "")}; the best {r.Candidates(c.Settings.Evaluation)} per user (ties: lowest item first)";
    }

    /// <summary>
    /// The popularity penalty's exponent for a source ("item" or "user"): Recommend:PopularityPenalty, plus
    /// Neighbors:PopularityPenalty for the user-based source.
    /// </summary>
    public static double Beta(StageContext c, string source) =>
        c.Settings.Recommend.PopularityPenalty + (source == "user" ? c.Settings.Neighbors.PopularityPenalty : 0.0);

    /// <summary>The kernel's options for the same cut (users per item read from item_popularity when the penalty is on).</summary>
    public static async Task<CandidateOptions> OptionsAsync(IEngine engine, StageContext c, TableScope scope, string source, int items, CancellationToken ct)
    {
        var r = c.Settings.Recommend;
        var beta = Beta(c, source);
        var itemUsers = Array.Empty<int>();
        if (beta > 0)
        {
            itemUsers = new int[items];
            var popularity = await engine.ReadColumnsAsync($"SELECT item_ix, CAST(users AS INTEGER) AS users FROM {c.Q(scope["item_popularity"])}", ct);
            var ix = popularity.Ints("item_ix");
            var users = popularity.Ints("users");
            for (var i = 0; i < popularity.RowCount; i++) itemUsers[ix[i]] = users[i];
        }
        return new CandidateOptions(r.RemoveSeen, beta, itemUsers, r.Candidates(c.Settings.Evaluation));
    }

    /// <summary>The columns of a candidate table: (row, column, score, extra).</summary>
    public static readonly (string Row, string Column, string Score, string Extra) Columns = ("user_ix", "item_ix", "score", "reason_ix");

    /// <summary>Writes the kernel's candidates with the SQL path's columns and types, and keeps them for the recommendations kernel.</summary>
    public static Task<long> WriteAsync(IEngine engine, StageContext c, string table, IEnumerable<TopKBlock> blocks, int users, int items, CancellationToken ct) =>
        CfKernels.WriteAndKeepAsync(engine, c, table, Columns, extraIsId: true, blocks, users, items, c.Settings.Recommend.Candidates(c.Settings.Evaluation), keepExtras: true, ct);
}
