using System.Globalization;
using System.Runtime.CompilerServices;
using SparkReco.Core.Engine;
using SparkReco.Kernels;
using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>Which sources a recommendations table blends and how long its lists are (the job's one, or an evaluation variant).</summary>
public sealed record RecommendVariant(string Name, double ItemWeight, double UserWeight, int TopN, bool Backfill);

/// <summary>
/// recommendations: the top-N items per user.
/// <list type="number">
/// <item>Each source (rec_item_scores, rec_user_scores: already without the user's seen items, divided by users(item)^β and cut to
/// the best N′ per user) is divided by the user's maximum score from that source, so it lies in (0, 1].</item>
/// <item>Blend = ItemWeight · item + UserWeight · user (a missing source counts 0). source says which contributed
/// (item, user or blend); the reason is the larger weighted contribution's item or neighbour.</item>
/// <item>Lists shorter than N are back-filled (Recommend:Backfill) with the most popular items by decayed popularity the user
/// has not seen (source popular, score = popularity / the top item's popularity), always after every CF candidate.</item>
/// </list>
/// Back-fill covers users known to affinity; a user whose every event was dropped by cleaning is not known and gets no row.
/// </summary>
public sealed class RecommendationsStage(TableScope? scope = null, RecommendVariant? variant = null) : MultiTableStage
{
    private readonly TableScope _scope = scope ?? TableScope.Main;

    public override string Name => variant is null ? _scope["recommendations"] : $"eval_recommendations_{variant.Name}";
    public override string Description => "one row per (user, rank): top-N items with score, source (item, user, blend, popular) and reason";
    public override IReadOnlyList<string> Inputs =>
        [_scope["cf_affinity"], _scope["item_popularity"], _scope["rec_item_scores"], _scope["rec_user_scores"]];
    public override bool IsOutput => variant is null && _scope == TableScope.Main;
    public override IReadOnlyList<string> OutputOrder => ["user_id", "rank"];
    public override IReadOnlyList<string> UserIdColumns => ["user_id", "reason_user_id"];
    public override IReadOnlyList<UserIdMention> UserIdMentions => [new("reason", "reason_user_id")];

    public RecommendVariant Variant(StageContext c) => variant ?? new RecommendVariant(
        "configured", c.Settings.Recommend.ItemWeight, c.Settings.Recommend.UserWeight, c.Settings.Recommend.TopN, c.Settings.Recommend.Backfill);

    /// <summary>The list on dense ids (user_ix, rank, item_ix, score, source, reason_kind, reason_ix), before the ids are put back.</summary>
    public string RankedName(StageContext c) => variant is null ? _scope["cf_recommendations"] : $"eval_cf_recommendations_{variant.Name}";

    protected override bool HasKernel => true;

    /// <summary>A source's candidates are read only when the variant weighs it (so a source with weight 0 need not run).</summary>
    public override bool Reads(string input, StageContext context) =>
        input == _scope["rec_item_scores"] ? Variant(context).ItemWeight > 0
        : input == _scope["rec_user_scores"] ? Variant(context).UserWeight > 0
        : true;

    /// <summary>The order of the popularity back-fill over item_popularity (also the list the evaluation gives users without history).</summary>
    public const string BackfillOrder = "popularity DESC, item_ix ASC";

    public override IReadOnlyList<(string Table, string Select)> Steps(StageContext c) =>
    [
        (RankedName(c), RenderRanked(c)),
        (Name, RenderDecode(c)),
    ];

    private string RenderRanked(StageContext c)
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
                    user_ix,
                    item_ix
                FROM {c.Q(_scope["cf_affinity"])}
            )
            """,
            $"""
            known_users AS (
                SELECT
                    user_ix,
                    count(*) AS n_seen
                FROM {c.Q(_scope["cf_affinity"])}
                GROUP BY
                    user_ix
            )
            """,
        };
        if (useItem) ctes.Add(Normalised(c, "item", _scope["rec_item_scores"]));
        if (useUser) ctes.Add(Normalised(c, "user", _scope["rec_user_scores"]));

        // The blend: one row per (user, item) candidate from the sources in use.
        var wi = d.Literal(v.ItemWeight);
        var wu = d.Literal(v.UserWeight);
        var zero = d.Literal(0.0);
        if (useItem && useUser)
        {
            ctes.Add($"""
                blended AS (
                    SELECT
                        coalesce(i.user_ix, u.user_ix) AS user_ix,
                        coalesce(i.item_ix, u.item_ix) AS item_ix,
                        {wi} * coalesce(i.score, {zero}) + {wu} * coalesce(u.score, {zero}) AS score,
                        CASE
                            WHEN i.item_ix IS NULL THEN {d.Literal("user")}
                            WHEN u.item_ix IS NULL THEN {d.Literal("item")}
                            ELSE {d.Literal("blend")}
                        END AS source,
                        CASE
                            WHEN {wi} * coalesce(i.score, {zero}) >= {wu} * coalesce(u.score, {zero}) THEN {d.Literal("item")}
                            ELSE {d.Literal("user")}
                        END AS reason_kind,
                        CASE
                            WHEN {wi} * coalesce(i.score, {zero}) >= {wu} * coalesce(u.score, {zero}) THEN i.reason_ix
                            ELSE u.reason_ix
                        END AS reason_ix
                    FROM item_normalised AS i
                    FULL OUTER JOIN user_normalised AS u
                        ON u.user_ix = i.user_ix
                        AND u.item_ix = i.item_ix
                )
                """);
        }
        else if (useItem || useUser)
        {
            var (kind, weight) = useItem ? ("item", wi) : ("user", wu);
            ctes.Add($"""
                blended AS (
                    SELECT
                        user_ix,
                        item_ix,
                        {weight} * score AS score,
                        {d.Literal(kind)} AS source,
                        {d.Literal(kind)} AS reason_kind,
                        reason_ix
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
                        user_ix,
                        item_ix,
                        score,
                        source,
                        reason_kind,
                        reason_ix,
                        row_number() OVER (
                            PARTITION BY user_ix
                            ORDER BY score DESC, item_ix ASC
                        ) AS cf_rank
                    FROM blended
                )
                """);
            ctes.Add($"""
                cf_top AS (
                    SELECT
                        user_ix,
                        item_ix,
                        score,
                        source,
                        reason_kind,
                        reason_ix
                    FROM cf_ranked
                    WHERE cf_rank <= {n}
                )
                """);
            parts.Add("""
                SELECT
                    user_ix,
                    item_ix,
                    score,
                    source,
                    reason_kind,
                    reason_ix,
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
                        item_ix,
                        popularity / max(popularity) OVER () AS score,
                        row_number() OVER (ORDER BY {BackfillOrder}) AS popularity_rank
                    FROM {c.Q(_scope["item_popularity"])}
                    WHERE popularity > {zero}
                )
                """);
            var seenJoin = settings.RemoveSeen
                ? """

                    LEFT JOIN seen AS s
                        ON s.user_ix = k.user_ix
                        AND s.item_ix = p.item_ix
                """
                : "";
            var cfJoin = useItem || useUser
                ? """

                    LEFT JOIN cf_top AS t
                        ON t.user_ix = k.user_ix
                        AND t.item_ix = p.item_ix
                """
                : "";
            var conditions = new List<string>();
            if (settings.RemoveSeen) conditions.Add("s.item_ix IS NULL");
            if (useItem || useUser) conditions.Add("t.item_ix IS NULL");
            var where = conditions.Count == 0 ? "" : "\n    WHERE " + string.Join("\n        AND ", conditions);
            ctes.Add($"""
                backfill AS (
                    SELECT
                        k.user_ix,
                        p.item_ix,
                        p.score
                    FROM known_users AS k
                    JOIN popular AS p
                        ON p.popularity_rank <= k.n_seen + {d.Literal(2L * v.TopN)}{seenJoin}{cfJoin}{where}
                )
                """);
            parts.Add($"""
                SELECT
                    user_ix,
                    item_ix,
                    score,
                    {d.Literal("popular")} AS source,
                    {d.Literal("popular")} AS reason_kind,
                    CAST(NULL AS INTEGER) AS reason_ix,
                    1 AS tier
                FROM backfill
                """);
        }
        if (parts.Count == 0)
        {
            // Neither a CF source nor back-fill: an empty table with the contract's columns.
            parts.Add($"""
                SELECT
                    user_ix,
                    CAST(NULL AS INTEGER) AS item_ix,
                    {zero} AS score,
                    {d.Literal("popular")} AS source,
                    {d.Literal("popular")} AS reason_kind,
                    CAST(NULL AS INTEGER) AS reason_ix,
                    1 AS tier
                FROM known_users
                WHERE 1 = 0
                """);
        }
        ctes.Add("candidates AS (\n" + Indent(string.Join("\nUNION ALL\n", parts)) + "\n)");
        ctes.Add("""
            ranked AS (
                SELECT
                    user_ix,
                    item_ix,
                    score,
                    source,
                    reason_kind,
                    reason_ix,
                    row_number() OVER (
                        PARTITION BY user_ix
                        ORDER BY tier ASC, score DESC, item_ix ASC
                    ) AS list_rank
                FROM candidates
            )
            """);

        var header = string.Create(CultureInfo.InvariantCulture, $"""
            -- {RankedName(c)}: one row per (user_ix, rank), the top {v.TopN} items per user.
            -- Each source's candidates (already cut to the best N′ per user{(settings.RemoveSeen ? ", seen items removed" : "")}{(settings.PopularityPenalty > 0 || c.Settings.Neighbors.PopularityPenalty > 0 ? ", divided by users(item)^β of the source" : "")}) are divided by the
            -- user's maximum from that source, then blended as {v.ItemWeight}·item + {v.UserWeight}·user.{(v.Backfill ? "\n-- Lists shorter than N are back-filled with popular unseen items (source popular), after every CF candidate." : "")}
            """);
        return $"""
            {header}
            WITH {string.Join(",\n", ctes)}
            SELECT
                user_ix,
                CAST(list_rank AS BIGINT) AS {c.Q("rank")},
                item_ix,
                score,
                source,
                reason_kind,
                reason_ix
            FROM ranked
            WHERE list_rank <= {n}
            """;
    }

    /// <summary>The published table: <see cref="RankedName"/> with the original ids and a readable reason.</summary>
    private string RenderDecode(StageContext c)
    {
        var d = c.Dialect;
        return $"""
            -- {Name}: one row per (user_id, rank): {RankedName(c)} with the original ids and a readable reason.
            SELECT
                u.user_id,
                r.{c.Q("rank")},
                i.item_id,
                r.score,
                r.source,
                CASE r.reason_kind
                    WHEN {d.Literal("item")} THEN {d.Concat(d.Literal("similar to item "), "reason_item.item_id")}
                    WHEN {d.Literal("user")} THEN {d.Concat(d.Literal("liked by similar user "), "reason_user.user_id")}
                    ELSE {d.Literal("popular")}
                END AS reason,
                -- The reason's id in its own typed column, so pseudonymisation can treat user ids and leave items alone.
                reason_item.item_id AS reason_item_id,
                reason_user.user_id AS reason_user_id
            FROM (
                SELECT
                    user_ix,
                    {c.Q("rank")},
                    item_ix,
                    score,
                    source,
                    reason_kind,
                    -- Typed reason numbers, so the id look-ups below are plain equality joins.
                    CASE WHEN reason_kind = {d.Literal("item")} THEN reason_ix END AS reason_item_ix,
                    CASE WHEN reason_kind = {d.Literal("user")} THEN reason_ix END AS reason_user_ix
                FROM {c.Q(RankedName(c))}
            ) AS r
            JOIN {c.Q(_scope["cf_users"])} AS u
                ON u.user_ix = r.user_ix
            JOIN {c.Q(_scope["cf_items"])} AS i
                ON i.item_ix = r.item_ix
            LEFT JOIN {c.Q(_scope["cf_items"])} AS reason_item
                ON reason_item.item_ix = r.reason_item_ix
            LEFT JOIN {c.Q(_scope["cf_users"])} AS reason_user
                ON reason_user.user_ix = r.reason_user_ix
            """;
    }

    protected override async Task<long> RunKernelAsync(IEngine engine, StageContext c, CancellationToken ct)
    {
        var v = Variant(c);
        var affinity = (await CfKernels.AffinityAsync(engine, c, _scope, ct)).Matrix;
        var (users, items) = (affinity.Rows, affinity.ColumnCount);
        var itemRows = v.ItemWeight > 0 ? await CfKernels.RankedAsync(engine, c, _scope["rec_item_scores"], CandidateCut.Columns, users, items, ct) : null;
        var userRows = v.UserWeight > 0 ? await CfKernels.RankedAsync(engine, c, _scope["rec_user_scores"], CandidateCut.Columns, users, items, ct) : null;
        var popularity = await engine.ReadColumnsAsync(
            $"SELECT item_ix, popularity FROM {c.Q(_scope["item_popularity"])} WHERE popularity > {c.Dialect.Literal(0.0)} ORDER BY {BackfillOrder}", ct);
        var popular = popularity.Ints("item_ix")[..popularity.RowCount];
        var scores = popularity.Reals("popularity")[..popularity.RowCount];
        if (scores.Length > 0)
        {
            var top = scores.Max();
            for (var p = 0; p < scores.Length; p++) scores[p] /= top;
        }
        var options = new BlendOptions(v.ItemWeight, v.UserWeight, v.TopN, v.Backfill, c.Settings.Recommend.RemoveSeen);
        await engine.WriteTableAsync(RankedName(c),
            [
                ("user_ix", ColumnType.Int32Bit),
                ("rank", ColumnType.Int64Bit),
                ("item_ix", ColumnType.Int32Bit),
                ("score", ColumnType.Real),
                ("source", ColumnType.Text),
                ("reason_kind", ColumnType.Text),
                ("reason_ix", ColumnType.Int32Bit),
            ],
            RankedColumns(RecommendKernel.Run(affinity, itemRows, userRows, popular, scores, options, c.Settings.Engine.Threads), ct), ct);
        return await engine.CreateTableAsync(Name, RenderDecode(c), ct);
    }

    private static readonly string[] SourceNames = ["item", "user", "blend", "popular"];
    private static readonly string[] ReasonKindNames = ["item", "user", "popular"];

    /// <summary>The kernel's rows in the SQL step's columns: source and reason kind by name, no reason for back-fill.</summary>
    private static async IAsyncEnumerable<ColumnTable> RankedColumns(IEnumerable<TopKBlock> blocks, [EnumeratorCancellation] CancellationToken ct)
    {
        foreach (var block in blocks)
        {
            ct.ThrowIfCancellationRequested();
            var n = block.Count;
            var sources = new string?[n];
            var kinds = new string?[n];
            var reasons = new int[n];
            var noReason = new bool[n];
            for (var i = 0; i < n; i++)
            {
                sources[i] = SourceNames[(int)RecommendKernel.SourceOf(block.Tags[i])];
                kinds[i] = ReasonKindNames[(int)RecommendKernel.ReasonKindOf(block.Tags[i])];
                reasons[i] = (int)block.Extras[i];
                noReason[i] = block.Extras[i] < 0;
            }
            yield return new ColumnTable(n,
            [
                Column.Of("user_ix", block.Rows),
                Column.Of("rank", block.Ranks),
                Column.Of("item_ix", block.Columns),
                Column.Of("score", block.Scores),
                Column.Of("source", sources),
                Column.Of("reason_kind", kinds),
                new Column("reason_ix", ColumnType.Int32Bit, reasons, noReason),
            ]);
            await Task.Yield();
        }
    }

    /// <summary>The CTEs of one source: its candidates (already cut: seen items, penalty, best N′) divided by the user's maximum.</summary>
    private static string Normalised(StageContext c, string kind, string table) =>
        $"""
            {kind}_normalised AS (
                SELECT
                    user_ix,
                    item_ix,
                    score / max(score) OVER (PARTITION BY user_ix) AS score,
                    reason_ix
                FROM {c.Q(table)}
            )
            """;

    private static string Indent(string text) => string.Join("\n", text.Split('\n').Select(l => "    " + l));
}
