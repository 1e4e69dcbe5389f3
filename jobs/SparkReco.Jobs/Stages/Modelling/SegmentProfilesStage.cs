using System.Globalization;
using System.Text;
using SparkReco.Core.Engine;
using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages.Modelling;

/// <summary>
/// segment_profiles: the marketer's view of each segment — size, share, event mix, mean features, top
/// categories and items by lift against everyone, and a short label from what stands out. Aggregates
/// run in the engine; only k rows come back. Segments with fewer than Privacy:KAnonymity users are
/// merged into one "other" row (segment −1), itself withheld when still too small; counts go to the manifest.
/// </summary>
public sealed class SegmentProfilesStage : IStage
{
    public const string Table = "segment_profiles";
    public const long Other = -1;

    public string Name => Table;
    public string Description => "one row per reported segment (−1 = small segments merged): size, event mix, lifts, mean features, label";
    public IReadOnlyList<string> Inputs => [SegmentsStage.Table, UserFeaturesStage.Table, "clean_events"];
    public bool IsOutput => true;
    public IReadOnlyList<string> OutputOrder => ["segment"];

    public bool IsEnabled(StageContext context) => context.Settings.Segments.Enabled;

    public IEnumerable<string> RenderSql(StageContext c)
    {
        var group = Group(c, []);
        var sql = new List<string> { RenderSizes(c), RenderMeans(c, group, ["log_events", "recency_days"]), RenderEventMix(c, group) };
        if (c.HasItems) sql.Add(RenderCategories(c, group));
        sql.Add(RenderItems(c, group));
        // The run writes one row per reported segment from these small results (labels derived on the driver); the plan
        // shows the statement with no profiles, i.e. with the table's columns and types.
        var features = FeatureSpec.ForPlan(c).Columns.Select(f => f.Name).ToList();
        var table = c.Dialect.Materialize(Name, RenderTable(c, features, [])).ToList();
        table[0] = "-- the table is then written from these k small results (one SELECT of literals per reported segment, labels derived on the driver):\n" + table[0];
        sql.AddRange(table);
        return sql;
    }

    /// <summary>The reported group of a user: its segment, or −1 when the segment is below k-anonymity.</summary>
    private static string Group(StageContext c, List<long> small, string qualifier = "s.") =>
        small.Count == 0
            ? $"{qualifier}segment"
            : $"CASE WHEN {qualifier}segment IN ({string.Join(", ", small.Select(c.Dialect.Literal))}) THEN {c.Dialect.Literal(Other)} ELSE {qualifier}segment END";

    private static string RenderSizes(StageContext c) =>
        $"""
        -- segment sizes
        SELECT
            segment,
            count(*) AS users
        FROM {c.Q(SegmentsStage.Table)}
        GROUP BY segment
        ORDER BY segment
        """;

    private static string RenderMeans(StageContext c, string group, IReadOnlyList<string> features) =>
        $"""
        -- mean features per reported segment
        SELECT
            {group} AS grp,
            count(*) AS users,
            {string.Join(",\n    ", features.Select((f, i) => $"{c.Dialect.ExactAvg("f." + c.Q(f))} AS f{i}"))}
        FROM {c.Q(SegmentsStage.Table)} AS s
        JOIN {c.Q(UserFeaturesStage.Table)} AS f
            ON f.user_id = s.user_id
        GROUP BY {group}
        """;

    private static string RenderEventMix(StageContext c, string group) =>
        $"""
        -- events per reported segment and event type
        SELECT
            {group} AS grp,
            e.event_type,
            count(*) AS events
        FROM {c.Q("clean_events")} AS e
        JOIN {c.Q(SegmentsStage.Table)} AS s
            ON s.user_id = e.user_id
        GROUP BY
            {group},
            e.event_type
        """;

    private static string RenderCategories(StageContext c, string group) =>
        $"""
        -- events per reported segment and item category
        SELECT
            {group} AS grp,
            ic.category,
            count(*) AS events
        FROM {c.Q("clean_events")} AS e
        JOIN {c.Q(SegmentsStage.Table)} AS s
            ON s.user_id = e.user_id
        JOIN (
        {FeatureSpec.Indent(FeatureSpec.RenderItemCategories(c), 1)}
        ) AS ic
            ON ic.item_id = e.item_id
        GROUP BY
            {group},
            ic.category
        """;

    /// <summary>Top items per reported segment by lift; an item needs at least k distinct users of the segment, so no list points at a few people.</summary>
    private static string RenderItems(StageContext c, string group)
    {
        var d = c.Dialect;
        return $"""
            -- top items per reported segment by lift = (share of the segment's events) / (share of all events)
            WITH segment_events AS (
                SELECT
                    {group} AS grp,
                    e.user_id,
                    e.item_id
                FROM {c.Q("clean_events")} AS e
                JOIN {c.Q(SegmentsStage.Table)} AS s
                    ON s.user_id = e.user_id
            ),
            segment_totals AS (
                SELECT grp, count(*) AS n FROM segment_events GROUP BY grp
            ),
            item_totals AS (
                SELECT item_id, count(*) AS n FROM segment_events GROUP BY item_id
            ),
            everything AS (
                SELECT count(*) AS n FROM segment_events
            ),
            segment_items AS (
                SELECT
                    grp,
                    item_id,
                    count(*) AS n,
                    count(DISTINCT user_id) AS users
                FROM segment_events
                GROUP BY
                    grp,
                    item_id
            ),
            lifted AS (
                SELECT
                    si.grp,
                    si.item_id,
                    si.n,
                    (CAST(si.n AS DOUBLE) / CAST(st.n AS DOUBLE)) / (CAST(it.n AS DOUBLE) / CAST(ev.n AS DOUBLE)) AS lift
                FROM segment_items AS si
                JOIN segment_totals AS st
                    ON st.grp = si.grp
                JOIN item_totals AS it
                    ON it.item_id = si.item_id
                CROSS JOIN everything AS ev
                WHERE si.users >= {d.Literal((long)c.Settings.Privacy.KAnonymity)}
            ),
            ranked AS (
                SELECT
                    grp,
                    item_id,
                    n,
                    lift,
                    row_number() OVER (PARTITION BY grp ORDER BY lift DESC, n DESC, item_id) AS position
                FROM lifted
            )
            SELECT
                grp,
                item_id,
                lift
            FROM ranked
            WHERE position <= {d.Literal((long)c.Settings.Segments.TopItems)}
            ORDER BY
                grp,
                position
            """;
    }

    public async Task<long> RunAsync(IEngine engine, StageContext c, CancellationToken ct)
    {
        var k = c.Settings.Privacy.KAnonymity;
        var sizes = (await engine.QueryAsync(RenderSizes(c), ct)).ToDictionary(r => Long(r["segment"]), r => Long(r["users"]));
        var small = sizes.Where(kv => kv.Value < k).Select(kv => kv.Key).Order().ToList();
        var otherUsers = small.Sum(s => sizes[s]);
        var withheldOther = small.Count > 0 && otherUsers < k;
        var group = Group(c, small);

        var features = (await engine.ColumnsAsync(UserFeaturesStage.Table, ct)).Where(n => n != "user_id").ToList();
        var means = (await engine.QueryAsync(RenderMeans(c, group, features), ct))
            .ToDictionary(r => Long(r["grp"]), r => features.Select((_, i) => Double(r[$"f{i}"])).ToArray());
        var population = new double[features.Count];
        var totalUsers = sizes.Values.Sum();
        foreach (var (grp, values) in means)
        {
            var users = grp == Other ? otherUsers : sizes[grp];
            for (var i = 0; i < features.Count; i++) population[i] += values[i] * users / Math.Max(1, totalUsers);
        }

        var mix = Counts(await engine.QueryAsync(RenderEventMix(c, group), ct), "event_type");
        var categories = c.HasItems ? Counts(await engine.QueryAsync(RenderCategories(c, group), ct), "category") : [];
        var items = (await engine.QueryAsync(RenderItems(c, group), ct))
            .GroupBy(r => Long(r["grp"]))
            .ToDictionary(g => g.Key, g => g.Select(r => (Item: Convert.ToString(r["item_id"], CultureInfo.InvariantCulture)!, Lift: Double(r["lift"]))).ToList());

        var mixTotals = Totals(mix);
        var categoryTotals = Totals(categories);
        var reported = means.Keys.Where(g => g != Other || !withheldOther).Order().ToList();
        var profiles = new List<Profile>();
        foreach (var grp in reported)
        {
            var users = grp == Other ? otherUsers : sizes[grp];
            var segmentMix = mix.GetValueOrDefault(grp) ?? [];
            var events = segmentMix.Values.Sum();
            var typeLifts = Lifts(segmentMix, mixTotals);
            var categoryLifts = Lifts(categories.GetValueOrDefault(grp) ?? [], categoryTotals)
                .Where(x => x.Share >= 0.02)
                .OrderByDescending(x => x.Lift).ThenBy(x => x.Key, StringComparer.Ordinal)
                .Take(c.Settings.Segments.TopCategories).ToList();
            var label = Label(grp, features, means[grp], population, typeLifts, categoryLifts, (double)events / Math.Max(1, users), (double)mixTotals.Values.Sum() / Math.Max(1, totalUsers));
            profiles.Add(new Profile(
                grp, label, users, (double)users / Math.Max(1, totalUsers), (double)events / Math.Max(1, users),
                string.Join(" · ", segmentMix.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
                    .Select(kv => $"{kv.Key} {(100.0 * kv.Value / Math.Max(1, events)).ToString("0", CultureInfo.InvariantCulture)}%")),
                string.Join(", ", categoryLifts.Select(x => $"{x.Key} ×{x.Lift.ToString("0.0", CultureInfo.InvariantCulture)}")),
                string.Join(", ", (items.GetValueOrDefault(grp) ?? []).Select(x => $"{x.Item} ×{x.Lift.ToString("0.0", CultureInfo.InvariantCulture)}")),
                means[grp]));
        }

        c.Facts["segment_profiles.k_anonymity"] = k;
        c.Facts["segment_profiles.suppressed_segments"] = small.Count;
        c.Facts["segment_profiles.suppressed_users"] = otherUsers;
        c.Facts["segment_profiles.other_row"] = small.Count == 0 ? "none" : withheldOther ? "withheld" : "reported";
        return await engine.CreateTableAsync(Name, RenderTable(c, features, profiles), ct);
    }

    private sealed record Profile(long Segment, string Label, long Users, double Share, double EventsPerUser, string EventMix, string TopCategories, string TopItems, double[] Means);

    private static string RenderTable(StageContext c, IReadOnlyList<string> features, IReadOnlyList<Profile> profiles)
    {
        var d = c.Dialect;
        string Row(Profile? p) =>
            "SELECT\n    " + string.Join(",\n    ", new[]
            {
                $"CAST({(p is null ? "NULL" : d.Literal(p.Segment))} AS BIGINT) AS segment",
                $"{(p is null ? d.CastString("NULL") : d.Literal(p.Label))} AS label",
                $"CAST({(p is null ? "NULL" : d.Literal(p.Users))} AS BIGINT) AS users",
                $"{(p is null ? "CAST(NULL AS DOUBLE)" : d.Literal(p.Share))} AS share",
                $"{(p is null ? "CAST(NULL AS DOUBLE)" : d.Literal(p.EventsPerUser))} AS events_per_user",
                $"{(p is null ? d.CastString("NULL") : d.Literal(p.EventMix))} AS event_mix",
                $"{(p is null ? d.CastString("NULL") : d.Literal(p.TopCategories))} AS top_categories",
                $"{(p is null ? d.CastString("NULL") : d.Literal(p.TopItems))} AS top_items",
            }.Concat(features.Select((f, i) => $"{(p is null || !double.IsFinite(p.Means[i]) ? "CAST(NULL AS DOUBLE)" : d.Literal(p.Means[i]))} AS {d.Quote("mean_" + f)}")));
        var sql = new StringBuilder("-- segment_profiles: one row per reported segment (-1 = segments below k-anonymity, merged).\n");
        sql.Append(profiles.Count == 0
            ? Row(null) + $"\nFROM {c.Q(SegmentsStage.Table)}\nWHERE 1 = 0"
            : string.Join("\nUNION ALL\n", profiles.Select(p => Row(p))));
        return sql.ToString();
    }

    private static string Label(long grp, IReadOnlyList<string> features, double[] means, double[] population,
        IReadOnlyList<(string Key, double Share, double Lift)> typeLifts, IReadOnlyList<(string Key, double Share, double Lift)> categoryLifts,
        double eventsPerUser, double populationEventsPerUser)
    {
        var parts = new List<string>();
        if (grp == Other) parts.Add("other (small segments)");
        if (eventsPerUser >= 2 * populationEventsPerUser) parts.Add("heavy users");
        else if (eventsPerUser <= 0.5 * populationEventsPerUser) parts.Add("light users");
        var type = typeLifts.Where(x => x.Lift >= 1.25 && x.Share >= 0.05).OrderByDescending(x => x.Lift).ThenBy(x => x.Key, StringComparer.Ordinal).FirstOrDefault();
        if (type.Key is not null) parts.Add(Noun(type.Key));
        // The standout category, and a second one when it stands out almost as much (communities often share two).
        var categories = categoryLifts.Where(x => x.Lift >= 1.25).ToList();
        if (categories.Count > 0)
            parts.Add(categories.Count > 1 && categories[1].Lift >= 0.8 * categories[0].Lift ? $"{categories[0].Key} & {categories[1].Key}" : categories[0].Key);
        double Mean(string f, double[] values) => features.ToList().IndexOf(f) is var i and >= 0 ? values[i] : double.NaN;
        var evening = Mean("evening_share", means);
        var eveningAll = Mean("evening_share", population);
        if (evening >= eveningAll + 0.15 && evening >= 1.5 * eveningAll) parts.Add("evenings");
        var recency = Mean("recency_days", means);
        if (recency >= 7 && recency >= 2 * Mean("recency_days", population)) parts.Add("lapsing");
        return parts.Count == 0 ? "typical" : string.Join(" · ", parts);
    }

    private static string Noun(string eventType) => eventType switch
    {
        "view" => "viewers",
        "like" => "likers",
        "comment" => "commenters",
        "share" => "sharers",
        "follow" => "followers",
        "click" => "clickers",
        "save" => "savers",
        _ => eventType + " fans",
    };

    private static Dictionary<long, Dictionary<string, long>> Counts(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, string key)
    {
        var result = new Dictionary<long, Dictionary<string, long>>();
        foreach (var r in rows)
        {
            var grp = Long(r["grp"]);
            if (!result.TryGetValue(grp, out var counts)) result[grp] = counts = new Dictionary<string, long>(StringComparer.Ordinal);
            counts[Convert.ToString(r[key], CultureInfo.InvariantCulture) ?? ""] = Long(r["events"]);
        }
        return result;
    }

    private static Dictionary<string, long> Totals(Dictionary<long, Dictionary<string, long>> counts)
    {
        var totals = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var perGroup in counts.Values)
            foreach (var (key, n) in perGroup) totals[key] = totals.GetValueOrDefault(key) + n;
        return totals;
    }

    private static List<(string Key, double Share, double Lift)> Lifts(Dictionary<string, long> segment, Dictionary<string, long> totals)
    {
        var segmentTotal = Math.Max(1, segment.Values.Sum());
        var total = Math.Max(1, totals.Values.Sum());
        return segment.Select(kv =>
        {
            var share = (double)kv.Value / segmentTotal;
            return (kv.Key, share, share / ((double)totals[kv.Key] / total));
        }).ToList();
    }

    private static long Long(object? value) => Convert.ToInt64(value, CultureInfo.InvariantCulture);

    private static double Double(object? value) => value is null ? double.NaN : Convert.ToDouble(value, CultureInfo.InvariantCulture);
}
