using System.Globalization;
using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>Which sources a recommendations table blends and how long its lists are (the job's one, or an evaluation variant).</summary>
public sealed record RecommendVariant(string Name, double ItemWeight, double UserWeight, int TopN, bool Backfill);

/// <summary>
/// recommendations: the top-N items per user.
/// <list type="number">
/// <item>Each source (rec_item_scores, rec_user_scores) loses the user's seen items (Recommend:RemoveSeen), is divided by
/// users(item)^β (Recommend:PopularityPenalty) and then by the user's maximum score from that source, so it lies in (0, 1].</item>
/// <item>Blend = ItemWeight · item + UserWeight · user (a missing source counts 0). source says which contributed
/// (item, user or blend); the reason is the larger weighted contribution's item or neighbour.</item>
/// <item>Lists shorter than N are back-filled (Recommend:Backfill) with the most popular items by decayed popularity the user
/// has not seen (source popular, score = popularity / the top item's popularity), always after every CF candidate.</item>
/// </list>
/// Back-fill covers users known to affinity; a user whose every event was dropped by cleaning is not known and gets no row.
/// </summary>
public sealed class RecommendationsStage(TableScope? scope = null, RecommendVariant? variant = null) : SqlStage
{
    private readonly TableScope _scope = scope ?? TableScope.Main;

    public override string Name => variant is null ? _scope["recommendations"] : $"eval_recommendations_{variant.Name}";
    public override string Description => "one row per (user, rank): top-N items with score, source (item, user, blend, popular) and reason";
    public override IReadOnlyList<string> Inputs =>
        [_scope["affinity"], _scope["item_popularity"], _scope["rec_item_scores"], _scope["rec_user_scores"]];
    public override bool IsOutput => variant is null && _scope == TableScope.Main;
    public override IReadOnlyList<string> OutputOrder => ["user_id", "rank"];
    public override IReadOnlyList<string> UserIdColumns => ["user_id", "reason_user_id"];
    public override IReadOnlyList<UserIdMention> UserIdMentions => [new("reason", "reason_user_id")];

    public RecommendVariant Variant(StageContext c) => variant ?? new RecommendVariant(
        "configured", c.Settings.Recommend.ItemWeight, c.Settings.Recommend.UserWeight, c.Settings.Recommend.TopN, c.Settings.Recommend.Backfill);

    public override string Render(StageContext c)
    {
        var v = Variant(c);
        var d = c.Dialect;
        var settings = c.Settings.Recommend;
        var n = d.Literal(v.TopN);
        var useItem = v.ItemWeight > 0;
        var useUser = v.UserWeight > 0;

        var ctes = new List<string>
        {
            $"""
            seen AS (
                SELECT
                    user_id,
                    item_id
                FROM {c.Q(_scope["affinity"])}
            )
            """,
            $"""
            known_users AS (
                SELECT
                    user_id,
                    count(*) AS n_seen
                FROM {c.Q(_scope["affinity"])}
                GROUP BY
                    user_id
            )
            """,
        };
        if (useItem) ctes.AddRange(Source(c, "item", _scope["rec_item_scores"]));
        if (useUser) ctes.AddRange(Source(c, "user", _scope["rec_user_scores"]));

        // The blend: one row per (user, item) candidate from the sources in use.
        var wi = d.Literal(v.ItemWeight);
        var wu = d.Literal(v.UserWeight);
        var zero = d.Literal(0.0);
        if (useItem && useUser)
        {
            ctes.Add($"""
                blended AS (
                    SELECT
                        coalesce(i.user_id, u.user_id) AS user_id,
                        coalesce(i.item_id, u.item_id) AS item_id,
                        {wi} * coalesce(i.score, {zero}) + {wu} * coalesce(u.score, {zero}) AS score,
                        CASE
                            WHEN i.item_id IS NULL THEN {d.Literal("user")}
                            WHEN u.item_id IS NULL THEN {d.Literal("item")}
                            ELSE {d.Literal("blend")}
                        END AS source,
                        CASE
                            WHEN {wi} * coalesce(i.score, {zero}) >= {wu} * coalesce(u.score, {zero}) THEN {d.Literal("item")}
                            ELSE {d.Literal("user")}
                        END AS reason_kind,
                        CASE
                            WHEN {wi} * coalesce(i.score, {zero}) >= {wu} * coalesce(u.score, {zero}) THEN i.reason_id
                            ELSE u.reason_id
                        END AS reason_id
                    FROM item_normalised AS i
                    FULL OUTER JOIN user_normalised AS u
                        ON u.user_id = i.user_id
                        AND u.item_id = i.item_id
                )
                """);
        }
        else if (useItem || useUser)
        {
            var (kind, weight) = useItem ? ("item", wi) : ("user", wu);
            ctes.Add($"""
                blended AS (
                    SELECT
                        user_id,
                        item_id,
                        {weight} * score AS score,
                        {d.Literal(kind)} AS source,
                        {d.Literal(kind)} AS reason_kind,
                        reason_id
                    FROM {kind}_normalised
                )
                """);
        }

        var parts = new List<string>();
        if (useItem || useUser)
        {
            ctes.Add($"""
                cf_ranked AS (
                    SELECT
                        user_id,
                        item_id,
                        score,
                        source,
                        reason_kind,
                        reason_id,
                        row_number() OVER (
                            PARTITION BY user_id
                            ORDER BY score DESC, item_id ASC
                        ) AS cf_rank
                    FROM blended
                )
                """);
            ctes.Add($"""
                cf_top AS (
                    SELECT
                        user_id,
                        item_id,
                        score,
                        source,
                        reason_kind,
                        reason_id
                    FROM cf_ranked
                    WHERE cf_rank <= {n}
                )
                """);
            parts.Add("""
                SELECT
                    user_id,
                    item_id,
                    score,
                    source,
                    reason_kind,
                    reason_id,
                    0 AS tier
                FROM cf_top
                """);
        }
        if (v.Backfill)
        {
            // Enough popular items that, after removing the user's seen items and CF picks, N remain.
            ctes.Add($"""
                popular AS (
                    SELECT
                        item_id,
                        popularity / max(popularity) OVER () AS score,
                        row_number() OVER (ORDER BY popularity DESC, item_id ASC) AS popularity_rank
                    FROM {c.Q(_scope["item_popularity"])}
                    WHERE popularity > {zero}
                )
                """);
            var seenJoin = settings.RemoveSeen
                ? """

                    LEFT JOIN seen AS s
                        ON s.user_id = k.user_id
                        AND s.item_id = p.item_id
                """
                : "";
            var cfJoin = useItem || useUser
                ? """

                    LEFT JOIN cf_top AS t
                        ON t.user_id = k.user_id
                        AND t.item_id = p.item_id
                """
                : "";
            var conditions = new List<string>();
            if (settings.RemoveSeen) conditions.Add("s.item_id IS NULL");
            if (useItem || useUser) conditions.Add("t.item_id IS NULL");
            var where = conditions.Count == 0 ? "" : "\n    WHERE " + string.Join("\n        AND ", conditions);
            ctes.Add($"""
                backfill AS (
                    SELECT
                        k.user_id,
                        p.item_id,
                        p.score
                    FROM known_users AS k
                    JOIN popular AS p
                        ON p.popularity_rank <= k.n_seen + {d.Literal(2L * v.TopN)}{seenJoin}{cfJoin}{where}
                )
                """);
            parts.Add($"""
                SELECT
                    user_id,
                    item_id,
                    score,
                    {d.Literal("popular")} AS source,
                    {d.Literal("popular")} AS reason_kind,
                    {d.CastString("NULL")} AS reason_id,
                    1 AS tier
                FROM backfill
                """);
        }
        if (parts.Count == 0)
        {
            // Neither a CF source nor back-fill: an empty table with the contract's columns.
            parts.Add($"""
                SELECT
                    user_id,
                    {d.CastString("NULL")} AS item_id,
                    {zero} AS score,
                    {d.Literal("popular")} AS source,
                    {d.Literal("popular")} AS reason_kind,
                    {d.CastString("NULL")} AS reason_id,
                    1 AS tier
                FROM known_users
                WHERE 1 = 0
                """);
        }
        ctes.Add("candidates AS (\n" + Indent(string.Join("\nUNION ALL\n", parts)) + "\n)");
        ctes.Add("""
            ranked AS (
                SELECT
                    user_id,
                    item_id,
                    score,
                    source,
                    reason_kind,
                    reason_id,
                    row_number() OVER (
                        PARTITION BY user_id
                        ORDER BY tier ASC, score DESC, item_id ASC
                    ) AS list_rank
                FROM candidates
            )
            """);

        var header = string.Create(CultureInfo.InvariantCulture, $"""
            -- {Name}: one row per (user_id, rank), the top {v.TopN} items per user.
            -- Each source's scores{(settings.RemoveSeen ? " (seen items removed" : " (seen items kept")}{(settings.PopularityPenalty > 0 ? $", divided by users(item)^{settings.PopularityPenalty}" : "")}) are divided by the
            -- user's maximum from that source, then blended as {v.ItemWeight}·item + {v.UserWeight}·user.{(v.Backfill ? "\n-- Lists shorter than N are back-filled with popular unseen items (source popular), after every CF candidate." : "")}
            """);
        return $"""
            {header}
            WITH {string.Join(",\n", ctes)}
            SELECT
                user_id,
                list_rank AS {c.Q("rank")},
                item_id,
                score,
                source,
                CASE reason_kind
                    WHEN {d.Literal("item")} THEN concat({d.Literal("similar to item ")}, reason_id)
                    WHEN {d.Literal("user")} THEN concat({d.Literal("liked by similar user ")}, reason_id)
                    ELSE {d.Literal("popular")}
                END AS reason,
                -- The reason's id in its own typed column, so pseudonymisation can treat user ids and leave items alone.
                CASE WHEN reason_kind = {d.Literal("item")} THEN reason_id END AS reason_item_id,
                CASE WHEN reason_kind = {d.Literal("user")} THEN reason_id END AS reason_user_id
            FROM ranked
            WHERE list_rank <= {n}
            """;
    }

    /// <summary>The CTEs of one source: seen items removed, popularity penalty, divided by the user's maximum.</summary>
    private IEnumerable<string> Source(StageContext c, string kind, string table)
    {
        var d = c.Dialect;
        var beta = c.Settings.Recommend.PopularityPenalty;
        var score = beta > 0 ? $"s.score / power(CAST(p.users AS DOUBLE), {d.Literal(beta)})" : "s.score";
        var popularityJoin = beta > 0
            ? $"""

                JOIN {c.Q(_scope["item_popularity"])} AS p
                    ON p.item_id = s.item_id
            """
            : "";
        var seenJoin = c.Settings.Recommend.RemoveSeen
            ? """

                LEFT JOIN seen AS seen_items
                    ON seen_items.user_id = s.user_id
                    AND seen_items.item_id = s.item_id
                WHERE seen_items.item_id IS NULL
            """
            : "";
        yield return $"""
            {kind}_source AS (
                SELECT
                    s.user_id,
                    s.item_id,
                    {score} AS score,
                    s.reason_id
                FROM {c.Q(table)} AS s{popularityJoin}{seenJoin}
            )
            """;
        yield return $"""
            {kind}_normalised AS (
                SELECT
                    user_id,
                    item_id,
                    score / max(score) OVER (PARTITION BY user_id) AS score,
                    reason_id
                FROM {kind}_source
            )
            """;
    }

    private static string Indent(string text) => string.Join("\n", text.Split('\n').Select(l => "    " + l));
}
