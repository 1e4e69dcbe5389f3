using System.Globalization;
using SparkReco.Core.Sql;
using SparkReco.Core.Stages;
using SparkReco.Jobs.Stages;
using SparkReco.Jobs.Stages.Recommend;

namespace SparkReco.Jobs.Evaluation;

/// <summary>
/// eval_metrics: offline quality of the popularity baseline and each recommender source (item, user, blend) at K — the
/// last node of the evaluation, whose other nodes are ordinary stages of the DAG (<see cref="EvaluationStages.All"/>).
/// <para>The train model is the job's own stage SQL rendered with <see cref="TableScope.Train"/> names on
/// eval_train_clean_events. temporal: the clean events before cutoff = as_of − TestDays, with as_of = cutoff for the decay;
/// the test events are clean_events at or after the cutoff. Nothing from the test period reaches the train affinity,
/// similarities, neighbours, popularity or seen items. (Bot removal in clean_events counts the whole window: it decides
/// which users exist, not what the model learns.)</para>
/// <para>random: the same, but the split holds out Evaluation:TestFraction of each user's (user, item) pairs, chosen by
/// md5(seed, user, item) (identical on every engine), and the train model keeps the run's as_of. For data whose times
/// mean nothing (e.g. Last.fm play counts).</para>
/// <para>files: Input:Events is the train file, so the train model learns from all clean events; the test events are
/// Evaluation:TestEvents.</para>
/// Test users are all users with a held-out item, as the usual definition has it: a user the train model does not know
/// (no training history) is scored on the list the job would give such a user, the popularity back-fill (top K of the
/// train popularity, or an empty list without Recommend:Backfill), so the figures are not flattered by leaving the hardest
/// users out. With RemoveSeen, held-out items the user already had in training are not counted as relevant (they can never
/// be recommended).
/// </summary>
public sealed class EvaluationStage : StepStage
{
    public const string TestSource = "eval_test_source";
    public const string TestEvents = "eval_test_events";
    public const string Relevant = "eval_relevant";
    public const string Metrics = "eval_metrics";

    /// <summary>The evaluated lists, in report order.</summary>
    public static readonly string[] Sources = ["popular", "item", "user", "blend"];

    private static readonly TableScope Scope = TableScope.Train;

    public override string Name => Metrics;
    public override string Description => "one row per recommender source: precision, recall, nDCG, MAP, hit rate at K, coverage and popularity bias";
    public override IReadOnlyList<string> Inputs =>
        [Relevant, TestEvents, Scope["clean_events"], Scope["affinity"], Scope["item_popularity"], .. VariantNames];
    public override bool IsEnabled(StageContext context) => EvaluationStages.Runs(context);
    public override string DisabledReason(StageContext context) => EvaluationStages.WhyNot(context);
    public override bool Reads(string input, StageContext context) =>
        !VariantNames.Contains(input, StringComparer.Ordinal) || Variants(context).Any(v => VariantName(v.Name) == input);

    private static string VariantName(string source) => $"eval_recommendations_{source}";

    /// <summary>The evaluated recommendation tables, one per <see cref="Sources"/> entry.</summary>
    private static IEnumerable<string> VariantNames => Sources.Select(VariantName);

    public override IEnumerable<StageStep> Steps(StageContext c, StageRows result)
    {
        var e = c.Settings.Evaluation;
        var metrics = new EvaluationMetrics
        {
            Mode = e.Mode,
            K = e.K,
            Cutoff = IsTemporal(c) ? Cutoff(c).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) : null,
            TestFraction = IsRandom(c) ? e.TestFraction : null,
            Seed = IsRandom(c) ? e.Seed : null,
            TestFile = SplitsCleanEvents(c) ? null : e.TestEvents,
        };
        yield return new MaterializeStep(Metrics, RenderMetrics(c, Scope));
        yield return new QueryStep(RenderCounts(c, Scope), rows =>
        {
            var counts = rows[0];
            long Count(string name) => counts[name] is { } v ? Convert.ToInt64(v, CultureInfo.InvariantCulture) : 0;
            metrics.TrainEvents = Count("train_events");
            metrics.TestPairs = Count("test_pairs");
            metrics.TestUsersAll = Count("test_users_all");
            metrics.TestUsers = Count("test_users");
            metrics.ColdTestUsers = Count("cold_test_users");
            metrics.RelevantPairs = Count("relevant_pairs");
            metrics.CatalogueItems = Count("catalogue_items");
        });
        yield return new QueryStep($"SELECT * FROM {c.Q(Metrics)}", rows =>
        {
            static double? Figure(IReadOnlyDictionary<string, object?> row, string name) =>
                row[name] is { } v ? Convert.ToDouble(v, CultureInfo.InvariantCulture) : null;
            metrics.Sources = new SortedDictionary<string, SourceMetrics>(rows.ToDictionary(
                row => Convert.ToString(row["source"], CultureInfo.InvariantCulture)!,
                row => new SourceMetrics(
                    Convert.ToInt64(row["users"], CultureInfo.InvariantCulture),
                    Figure(row, "precision_at_k"),
                    Figure(row, "recall_at_k"),
                    Figure(row, "ndcg_at_k"),
                    Figure(row, "map_at_k"),
                    Figure(row, "hit_rate_at_k"),
                    Figure(row, "coverage_at_k"),
                    Figure(row, "mean_popularity"),
                    Figure(row, "history_mean_popularity"))), StringComparer.Ordinal);
            c.Results.Set(metrics);
        });
    }

    /// <summary>temporal and random split the run's clean events into train and test; files brings its own test events.</summary>
    internal static bool SplitsCleanEvents(StageContext c) => c.Settings.Evaluation.Mode != "files";

    private static bool IsTemporal(StageContext c) => c.Settings.Evaluation.Mode == "temporal";

    internal static bool IsRandom(StageContext c) => c.Settings.Evaluation.Mode == "random";

    /// <summary>
    /// Whether a (user_id, item_id) pair is held out in random mode: the first 4 hex digits of md5(seed|user|item) below
    /// TestFraction·16⁴. Comparing equal-length lower-case hex strings orders them like the numbers, in every engine.
    /// </summary>
    private static string HeldOut(StageContext c)
    {
        var e = c.Settings.Evaluation;
        var threshold = ((int)Math.Round(e.TestFraction * 65536)).ToString("x4", CultureInfo.InvariantCulture);
        var key = c.Dialect.Concat(c.Dialect.Literal(e.Seed.ToString(CultureInfo.InvariantCulture) + "|"), "user_id", c.Dialect.Literal("|"), "item_id");
        return $"substr({c.Dialect.Md5(key)}, 1, 4) < {c.Dialect.Literal(threshold)}";
    }

    public static DateTime Cutoff(StageContext c) => c.AsOf.AddDays(-c.Settings.Evaluation.TestDays);

    /// <summary>The evaluated variants, in <see cref="Sources"/> order (a source the blend does not use is not computed, so not evaluated).</summary>
    public static IReadOnlyList<RecommendVariant> Variants(StageContext c) =>
        Sources.Where(source => EvaluationStages.Evaluates(c, source)).Select(source => EvaluationStages.Variant(c, source)).ToList();

    /// <summary>The split as (what the test side is, predicate selecting test rows of clean_events).</summary>
    private static (string TestSide, string IsTest) Split(StageContext c) => IsRandom(c)
        ? ($"held out by the random split (Evaluation:TestFraction = {c.Settings.Evaluation.TestFraction.ToString(CultureInfo.InvariantCulture)})", HeldOut(c))
        : ($"engaged with at or after the cutoff {Cutoff(c):yyyy-MM-ddTHH:mm:ssZ} (as_of − {c.Settings.Evaluation.TestDays} days)",
            $"event_time >= {c.Dialect.Timestamp(Cutoff(c))}");

    internal static string RenderTrainEvents(StageContext c)
    {
        var (testSide, isTest) = SplitsCleanEvents(c) ? Split(c) : ("none: Input:Events is the train file", "FALSE");
        return $"""
            -- {TableScope.Train["clean_events"]}: the clean events except those of the test side ({testSide}); the train model sees only these.
            SELECT
                user_id,
                item_id,
                event_type,
                event_time,
                weight
            FROM {c.Q("clean_events")}
            WHERE NOT ({isTest})
            """;
    }

    internal static string RenderSplitTestEvents(StageContext c)
    {
        var (testSide, isTest) = Split(c);
        return $"""
            -- {TestEvents}: one row per (user_id, item_id) {testSide}.
            SELECT DISTINCT
                user_id,
                item_id
            FROM {c.Q("clean_events")}
            WHERE {isTest}
            """;
    }

    internal static List<string> RenderTestView(StageContext c)
    {
        var d = c.Dialect;
        var columns = c.Settings.Input.Columns;
        var path = c.Settings.Evaluation.TestEvents ?? "";
        var statements = d.CreateParquetView(TestSource, new ParquetSource(path, Directory.Exists(path)), from => $"""
            SELECT
                {d.CastString(d.Quote(columns.UserId))} AS user_id,
                {d.CastString(d.Quote(columns.ItemId))} AS item_id,
                {d.CastString(d.Quote(columns.EventType))} AS event_type
            FROM {from}
            """).ToList();
        statements[0] = $"-- {TestSource}: the held-out events file under the contract's column names.\n" + statements[0];
        return statements;
    }

    internal static string RenderFileTestEvents(StageContext c) =>
        $"""
        -- {TestEvents}: one row per (user_id, item_id) in the held-out file with a known event type.
        SELECT DISTINCT
            user_id,
            item_id
        FROM {c.Q(TestSource)}
        WHERE user_id IS NOT NULL
            AND item_id IS NOT NULL
            AND event_type IN ({string.Join(", ", c.Settings.Affinity.EventWeights.Keys.Select(c.Dialect.Literal))})
        """;

    internal static string RenderRelevant(StageContext c, TableScope scope)
    {
        var removeSeen = c.Settings.Recommend.RemoveSeen;
        var seen = removeSeen
            ? $"""

            LEFT JOIN {c.Q(scope["affinity"])} AS seen
                ON seen.user_id = t.user_id
                AND seen.item_id = t.item_id
            WHERE seen.item_id IS NULL
            """
            : "";
        return $"""
            -- {Relevant}: one row per held-out (user_id, item_id), of every test user (those without training history included){(removeSeen ? $",\n-- leaving out items the user already had in training ({scope["affinity"]}; seen items are never recommended)" : "")}.
            SELECT
                t.user_id,
                t.item_id
            FROM {c.Q(TestEvents)} AS t{seen}
            """;
    }

    private static string RenderCounts(StageContext c, TableScope scope) =>
        $"""
        -- evaluation facts: sizes of the split and of the test population
        SELECT
            (SELECT count(*) FROM {c.Q(scope["clean_events"])}) AS train_events,
            (SELECT count(*) FROM {c.Q(TestEvents)}) AS test_pairs,
            (SELECT count(DISTINCT user_id) FROM {c.Q(TestEvents)}) AS test_users_all,
            (SELECT count(DISTINCT user_id) FROM {c.Q(Relevant)}) AS test_users,
            (
                SELECT
                    count(DISTINCT r.user_id)
                FROM {c.Q(Relevant)} AS r
                LEFT JOIN {c.Q(scope["affinity"])} AS a
                    ON a.user_id = r.user_id
                WHERE a.user_id IS NULL
            ) AS cold_test_users,
            (SELECT count(*) FROM {c.Q(Relevant)}) AS relevant_pairs,
            (SELECT count(*) FROM {c.Q(scope["item_popularity"])}) AS catalogue_items
        """;

    private static string RenderMetrics(StageContext c, TableScope scope)
    {
        var d = c.Dialect;
        var k = c.Settings.Evaluation.K;
        var kLiteral = d.Literal(k);
        var kDouble = d.Literal((double)k);
        var ln2 = d.Literal(Math.Log(2));
        var zero = d.Literal(0.0);
        var positions = string.Join(", ", Enumerable.Range(1, k).Select(i => $"({i.ToString(CultureInfo.InvariantCulture)})"));
        // Users without training history have no row in the recommendation tables; each list with back-fill gives them
        // the back-fill list (cold_lists), as the job would.
        var lists = string.Join("\n    UNION ALL\n", Variants(c).SelectMany(v => (IEnumerable<string>)[
            $"""
                SELECT
                        {d.Literal(v.Name)} AS source,
                        user_id,
                        {c.Q("rank")} AS list_rank,
                        item_id
                    FROM {c.Q(new RecommendationsStage(scope, v).Name)}
                    WHERE {c.Q("rank")} <= {kLiteral}
                """,
            .. v.Backfill ? [$"""
                SELECT
                        {d.Literal(v.Name)} AS source,
                        user_id,
                        list_rank,
                        item_id
                    FROM cold_lists
                """] : Array.Empty<string>(),
        ]));
        var sources = string.Join("\n    UNION ALL\n    ", Variants(c).Select(v => $"SELECT {d.Literal(v.Name)} AS source"));
        return $"""
            -- {Metrics}: one row per recommender source, metrics at K = {k} averaged over test users (users with a row in {Relevant});
            -- users without training history (cold_users) are scored on the popularity back-fill list, in each list that back-fills.
            -- precision = hits / K; recall = hits / |relevant|; nDCG = DCG / ideal DCG with gain 1 / log2(rank + 1);
            -- AP = sum over hits of precision@rank / min(K, |relevant|); hit rate = share of users with a hit;
            -- coverage = distinct recommended items / items in the train catalogue; mean popularity = mean train users per item.
            WITH relevant_counts AS (
                SELECT
                    user_id,
                    count(*) AS n_relevant
                FROM {c.Q(Relevant)}
                GROUP BY
                    user_id
            ),
            positions AS (
                SELECT
                    ideal_rank
                FROM (VALUES {positions}) AS p(ideal_rank)
            ),
            cold_users AS (
                SELECT
                    r.user_id
                FROM relevant_counts AS r
                LEFT JOIN (
                    SELECT DISTINCT
                        user_id
                    FROM {c.Q(scope["affinity"])}
                ) AS known
                    ON known.user_id = r.user_id
                WHERE known.user_id IS NULL
            ),
            popular AS (
                SELECT
                    item_id,
                    row_number() OVER (ORDER BY {RecommendationsStage.BackfillOrder}) AS list_rank
                FROM {c.Q(scope["item_popularity"])}
                WHERE popularity > {zero}
            ),
            cold_lists AS (
                SELECT
                    u.user_id,
                    p.list_rank,
                    p.item_id
                FROM cold_users AS u
                JOIN popular AS p
                    ON p.list_rank <= {kLiteral}
            ),
            ideal AS (
                SELECT
                    r.user_id,
                    {d.ExactSum($"{ln2} / {d.Ln("CAST(p.ideal_rank + 1 AS DOUBLE)")}")} AS idcg
                FROM relevant_counts AS r
                JOIN positions AS p
                    ON p.ideal_rank <= r.n_relevant
                GROUP BY
                    r.user_id
            ),
            lists AS (
                {lists}
            ),
            judged AS (
                SELECT
                    l.source,
                    l.user_id,
                    l.list_rank,
                    l.item_id,
                    CASE WHEN r.item_id IS NULL THEN 0 ELSE 1 END AS is_hit
                FROM lists AS l
                JOIN relevant_counts AS u
                    ON u.user_id = l.user_id
                LEFT JOIN {c.Q(Relevant)} AS r
                    ON r.user_id = l.user_id
                    AND r.item_id = l.item_id
            ),
            cumulative AS (
                SELECT
                    source,
                    user_id,
                    list_rank,
                    is_hit,
                    sum(is_hit) OVER (
                        PARTITION BY source, user_id
                        ORDER BY list_rank
                        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                    ) AS hits_so_far
                FROM judged
            ),
            per_list AS (
                SELECT
                    source,
                    user_id,
                    sum(is_hit) AS hits,
                    {d.ExactSum($"CASE WHEN is_hit = 1 THEN {ln2} / {d.Ln("CAST(list_rank + 1 AS DOUBLE)")} ELSE {zero} END")} AS dcg,
                    {d.ExactSum($"CASE WHEN is_hit = 1 THEN CAST(hits_so_far AS DOUBLE) / CAST(list_rank AS DOUBLE) ELSE {zero} END")} AS precision_sum
                FROM cumulative
                GROUP BY
                    source,
                    user_id
            ),
            sources AS (
                {sources}
            ),
            per_user AS (
                SELECT
                    s.source,
                    r.user_id,
                    CAST(coalesce(p.hits, 0) AS DOUBLE) / {kDouble} AS precision_at_k,
                    CAST(coalesce(p.hits, 0) AS DOUBLE) / CAST(r.n_relevant AS DOUBLE) AS recall_at_k,
                    coalesce(p.dcg, {zero}) / i.idcg AS ndcg_at_k,
                    coalesce(p.precision_sum, {zero}) / CAST(least(r.n_relevant, {kLiteral}) AS DOUBLE) AS map_at_k,
                    CASE WHEN coalesce(p.hits, 0) > 0 THEN {d.Literal(1.0)} ELSE {zero} END AS hit_rate_at_k
                FROM sources AS s
                CROSS JOIN relevant_counts AS r
                JOIN ideal AS i
                    ON i.user_id = r.user_id
                LEFT JOIN per_list AS p
                    ON p.source = s.source
                    AND p.user_id = r.user_id
            ),
            reach AS (
                SELECT
                    j.source,
                    count(DISTINCT j.item_id) AS items_recommended,
                    {d.ExactSum("CAST(p.users AS DOUBLE)")} / CAST(count(*) AS DOUBLE) AS mean_popularity
                FROM judged AS j
                LEFT JOIN {c.Q(scope["item_popularity"])} AS p
                    ON p.item_id = j.item_id
                GROUP BY
                    j.source
            ),
            catalogue AS (
                SELECT
                    count(*) AS n_items
                FROM {c.Q(scope["item_popularity"])}
            ),
            history AS (
                SELECT
                    {d.ExactSum("CAST(p.users AS DOUBLE)")} / CAST(count(*) AS DOUBLE) AS history_mean_popularity
                FROM {c.Q(scope["affinity"])} AS a
                JOIN relevant_counts AS r
                    ON r.user_id = a.user_id
                JOIN {c.Q(scope["item_popularity"])} AS p
                    ON p.item_id = a.item_id
            )
            SELECT
                u.source,
                count(*) AS users,
                {d.ExactSum("u.precision_at_k")} / CAST(count(*) AS DOUBLE) AS precision_at_k,
                {d.ExactSum("u.recall_at_k")} / CAST(count(*) AS DOUBLE) AS recall_at_k,
                {d.ExactSum("u.ndcg_at_k")} / CAST(count(*) AS DOUBLE) AS ndcg_at_k,
                {d.ExactSum("u.map_at_k")} / CAST(count(*) AS DOUBLE) AS map_at_k,
                {d.ExactSum("u.hit_rate_at_k")} / CAST(count(*) AS DOUBLE) AS hit_rate_at_k,
                CAST(coalesce(max(x.items_recommended), 0) AS DOUBLE) / CAST(max(cat.n_items) AS DOUBLE) AS coverage_at_k,
                coalesce(max(x.mean_popularity), {zero}) AS mean_popularity,
                max(h.history_mean_popularity) AS history_mean_popularity
            FROM per_user AS u
            LEFT JOIN reach AS x
                ON x.source = u.source
            CROSS JOIN catalogue AS cat
            CROSS JOIN history AS h
            GROUP BY
                u.source
            """;
    }
}
