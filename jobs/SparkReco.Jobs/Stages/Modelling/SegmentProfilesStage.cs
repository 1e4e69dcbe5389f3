using System.Globalization;
using SparkReco.Core.Engine;
using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages.Modelling;

/// <summary>
/// segment_profiles: the marketer's view of each segment — size, share, event mix, mean features, top
/// categories and items by lift against everyone, and a short label from what stands out. Aggregates
/// run in the engine; only k rows come back. Segments with fewer than Privacy:KAnonymity users are
/// merged into one "other" row (segment −1), itself withheld when still too small; counts go to the manifest.
/// </summary>
public sealed class SegmentProfilesStage : StepStage
{
    public const string Table = "segment_profiles";
    public const string GroupsTable = "segment_groups";
    public const long Other = -1;

    public override string Name => Table;
    public override string Description => "one row per reported segment (−1 = small segments merged): size, event mix, lifts, mean features, label";
    public override IReadOnlyList<string> Inputs => [SegmentsStage.Table, UserFeaturesStage.Table, "clean_events", "affinity"];
    public override bool IsOutput => true;
    public override IReadOnlyList<string> OutputOrder => ["segment"];

    /// <summary>The published column holding a segment's mean of a user_features column (the report reads it by this name).</summary>
    public static string MeanColumn(string feature) => "mean_" + feature;

    public override bool IsEnabled(StageContext context) => context.Settings.Segments.Enabled;
    public override string DisabledReason(StageContext context) => "Segments:Enabled=false";

    public override IEnumerable<StageStep> Steps(StageContext c, StageRows result)
    {
        var k = c.Settings.Privacy.KAnonymity;
        var features = c.Results.Get<FeatureSpec>().Columns.Select(f => f.Name).ToList();
        Dictionary<long, long> sizes = [];
        List<long> small = [];
        yield return new QueryStep(RenderSizes(c), rows =>
        {
            sizes = rows.ToDictionary(r => Long(r["segment"]), r => Long(r["users"]));
            small = sizes.Where(kv => kv.Value < k).Select(kv => kv.Key).Order().ToList();
        });
        // Which group each segment is reported in travels as rows, so the aggregates below are the same SQL on every run.
        yield return new RegisterStep(GroupsTable, [("segment", ColumnType.Int64Bit), ("grp", ColumnType.Int64Bit)],
            "one row per segment: the group it is reported in, its own id or -1 when it has fewer than Privacy:KAnonymity users",
            () =>
            {
                var segments = sizes.Keys.Order().ToArray();
                return new ColumnTable(segments.Length,
                    [Column.Of("segment", segments), Column.Of("grp", segments.Select(s => small.Contains(s) ? Other : s).ToArray())]);
            });

        Dictionary<long, double[]> means = [];
        yield return new QueryStep(RenderMeans(c, features), rows => means = rows.ToDictionary(r => Long(r["grp"]), r => features.Select((_, i) => Double(r[$"f{i}"])).ToArray()));
        Dictionary<long, Dictionary<string, long>> mix = [], categories = [];
        yield return new QueryStep(RenderEventMix(c), rows => mix = Counts(rows, "event_type"));
        if (c.HasItems) yield return new QueryStep(RenderCategories(c), rows => categories = Counts(rows, "category"));
        Dictionary<long, List<(string Item, double Lift)>> items = [];
        yield return new QueryStep(RenderItems(c), rows => items = rows
            .GroupBy(r => Long(r["grp"]))
            .ToDictionary(g => g.Key, g => g.Select(r => (Item: Convert.ToString(r["item_id"], CultureInfo.InvariantCulture)!, Lift: Double(r["lift"]))).ToList()));

        List<Profile> profiles = [];
        yield return new DriverStep("one profile per reported segment from these results: shares, lifts and a label", () =>
        {
            profiles = Profiles(c, features, sizes, small, means, mix, categories, items);
            var otherUsers = small.Sum(s => sizes[s]);
            c.Results.Set(new ProfileFacts(k, small.Count, otherUsers, small.Count == 0 ? "none" : otherUsers < k ? "withheld" : "reported"));
        });
        yield return new RegisterStep(Name, Schema(features),
            "one row per reported segment (-1 = segments below k-anonymity, merged): size, event mix, lifts, mean features and label",
            () => Rows(profiles, features));
    }

    /// <summary>The reported group of a user's segment, from the registered groups (alias g).</summary>
    private static string GroupJoin(StageContext c, string segments = "s") =>
        $"JOIN {c.Q(GroupsTable)} AS g\n    ON g.segment = {segments}.segment";

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

    private static string RenderMeans(StageContext c, IReadOnlyList<string> features) =>
        $"""
        -- mean features per reported segment
        SELECT
            g.grp,
            count(*) AS users,
            {string.Join(",\n    ", features.Select((f, i) => $"{c.Dialect.ExactAvg("f." + c.Q(f))} AS f{i}"))}
        FROM {c.Q(SegmentsStage.Table)} AS s
        {GroupJoin(c)}
        JOIN {c.Q(UserFeaturesStage.Table)} AS f
            ON f.user_id = s.user_id
        GROUP BY g.grp
        """;

    private static string RenderEventMix(StageContext c) =>
        $"""
        -- events per reported segment and event type
        SELECT
            g.grp,
            e.event_type,
            count(*) AS events
        FROM {c.Q("clean_events")} AS e
        JOIN {c.Q(SegmentsStage.Table)} AS s
            ON s.user_id = e.user_id
        {GroupJoin(c)}
        GROUP BY
            g.grp,
            e.event_type
        """;

    private static string RenderCategories(StageContext c) =>
        $"""
        -- events per reported segment and item category
        SELECT
            g.grp,
            ic.category,
            count(*) AS events
        FROM {c.Q("clean_events")} AS e
        JOIN {c.Q(SegmentsStage.Table)} AS s
            ON s.user_id = e.user_id
        {GroupJoin(c)}
        JOIN (
        {FeatureSpec.Indent(FeatureSpec.RenderItemCategories(c), 1)}
        ) AS ic
            ON ic.item_id = e.item_id
        GROUP BY
            g.grp,
            ic.category
        """;

    /// <summary>Top items per reported segment by lift; an item needs at least k distinct users of the segment, so no list points at a few people.</summary>
    private static string RenderItems(StageContext c)
    {
        var d = c.Dialect;
        return $"""
            -- top items per reported segment by lift = (share of the segment's events) / (share of all events).
            -- affinity has one row per (user, item) with its event count, so users per item are a count, not a count(DISTINCT)
            -- over every event.
            WITH segment_items AS (
                SELECT
                    g.grp,
                    a.item_id,
                    CAST(sum(a.event_count) AS BIGINT) AS n,
                    count(*) AS users
                FROM {c.Q("affinity")} AS a
                JOIN {c.Q(SegmentsStage.Table)} AS s
                    ON s.user_id = a.user_id
                JOIN {c.Q(GroupsTable)} AS g
                    ON g.segment = s.segment
                GROUP BY
                    g.grp,
                    a.item_id
            ),
            segment_totals AS (
                SELECT grp, CAST(sum(n) AS BIGINT) AS n FROM segment_items GROUP BY grp
            ),
            item_totals AS (
                SELECT item_id, CAST(sum(n) AS BIGINT) AS n FROM segment_items GROUP BY item_id
            ),
            everything AS (
                SELECT CAST(sum(n) AS BIGINT) AS n FROM segment_items
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

    private static List<Profile> Profiles(StageContext c, List<string> features, Dictionary<long, long> sizes, List<long> small,
        Dictionary<long, double[]> means, Dictionary<long, Dictionary<string, long>> mix, Dictionary<long, Dictionary<string, long>> categories,
        Dictionary<long, List<(string Item, double Lift)>> items)
    {
        var otherUsers = small.Sum(s => sizes[s]);
        var withheldOther = small.Count > 0 && otherUsers < c.Settings.Privacy.KAnonymity;
        var population = new double[features.Count];
        var totalUsers = sizes.Values.Sum();
        foreach (var (grp, values) in means)
        {
            var users = grp == Other ? otherUsers : sizes[grp];
            for (var i = 0; i < features.Count; i++) population[i] += values[i] * users / Math.Max(1, totalUsers);
        }

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
        return profiles;
    }

    private sealed record Profile(long Segment, string Label, long Users, double Share, double EventsPerUser, string EventMix, string TopCategories, string TopItems, double[] Means);

    private static IReadOnlyList<(string Name, ColumnType Type)> Schema(List<string> features) =>
    [
        ("segment", ColumnType.Int64Bit),
        ("label", ColumnType.Text),
        ("users", ColumnType.Int64Bit),
        ("share", ColumnType.Real),
        ("events_per_user", ColumnType.Real),
        ("event_mix", ColumnType.Text),
        ("top_categories", ColumnType.Text),
        ("top_items", ColumnType.Text),
        .. features.Select(f => (MeanColumn(f), ColumnType.Real)),
    ];

    private static ColumnTable Rows(List<Profile> profiles, IReadOnlyList<string> features) => new(profiles.Count,
    [
        Column.Of("segment", profiles.Select(p => p.Segment).ToArray()),
        Column.Of("label", profiles.Select(p => (string?)p.Label).ToArray()),
        Column.Of("users", profiles.Select(p => p.Users).ToArray()),
        Column.Of("share", profiles.Select(p => p.Share).ToArray()),
        Column.Of("events_per_user", profiles.Select(p => p.EventsPerUser).ToArray()),
        Column.Of("event_mix", profiles.Select(p => (string?)p.EventMix).ToArray()),
        Column.Of("top_categories", profiles.Select(p => (string?)p.TopCategories).ToArray()),
        Column.Of("top_items", profiles.Select(p => (string?)p.TopItems).ToArray()),
        // A mean over no values (NaN) is NULL in the table, as it was when the rows were SQL literals.
        .. features.Select((f, i) => new Column(MeanColumn(f), ColumnType.Real,
            profiles.Select(p => p.Means[i]).ToArray(), profiles.Select(p => !double.IsFinite(p.Means[i])).ToArray())),
    ]);

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
