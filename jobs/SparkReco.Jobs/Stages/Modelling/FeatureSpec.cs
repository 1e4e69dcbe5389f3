using System.Globalization;
using System.Text;
using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages.Modelling;

/// <summary>One generated feature column: a safe SQL name and what it means (the mapping kept with the model).</summary>
public sealed record FeatureColumn(string Name, string Meaning);

/// <summary>
/// The per-user feature set: which event types (Affinity:EventWeights keys) and which item categories
/// (discovered from the data: the Features:MaxCategories most engaged, ties by name) get columns.
/// Column names are generated (ev00_…, cat00_…), so no data value ever becomes an identifier.
/// The same spec renders features at as_of (user_features) and at an earlier cutoff (propensity training).
/// </summary>
public sealed class FeatureSpec
{
    public const string ItemCategories = "item_categories";

    private FeatureSpec(IReadOnlyList<string> eventTypes, IReadOnlyList<string> categories, bool withItems, bool withFollows)
    {
        EventTypes = eventTypes;
        Categories = categories;
        WithItems = withItems;
        WithFollows = withFollows;
        var columns = new List<FeatureColumn> { new("log_events", "ln(1 + events)") };
        for (var i = 0; i < eventTypes.Count; i++)
        {
            columns.Add(new(EventColumn(i, "log_count"), $"ln(1 + number of '{eventTypes[i]}' events)"));
            columns.Add(new(EventColumn(i, "log_decayed"), $"ln(1 + '{eventTypes[i]}' events decayed by Affinity:HalfLifeDays)"));
            columns.Add(new(EventColumn(i, "share"), $"share of events that are '{eventTypes[i]}'"));
        }
        columns.Add(new("recency_days", "days from the last event to the reference time"));
        columns.Add(new("log_active_days", "ln(1 + distinct days with an event)"));
        columns.Add(new("evening_share", "share of events at or after Features:EveningStartHour (UTC)"));
        if (withItems)
        {
            for (var j = 0; j < categories.Count; j++)
                columns.Add(new(CategoryColumn(j), $"share of events on items in category '{categories[j]}'"));
            columns.Add(new("category_entropy", "entropy (nats) of the user's events over all categories"));
            columns.Add(new("category_count", "distinct categories engaged with"));
        }
        if (withFollows)
        {
            columns.Add(new("log_followers", "ln(1 + followers)"));
            columns.Add(new("log_followees", "ln(1 + accounts followed)"));
        }
        Columns = columns;
    }

    public IReadOnlyList<string> EventTypes { get; }
    public IReadOnlyList<string> Categories { get; }
    public bool WithItems { get; }
    public bool WithFollows { get; }
    public IReadOnlyList<FeatureColumn> Columns { get; }

    /// <summary>The group (Segments:FeatureGroups) a generated column belongs to.</summary>
    public static string GroupOf(string column) => column switch
    {
        "log_events" or "log_active_days" or "recency_days" => "activity",
        "evening_share" => "timing",
        "category_entropy" or "category_count" => "categories",
        "log_followers" or "log_followees" => "social",
        _ when column.StartsWith("cat", StringComparison.Ordinal) => "categories",
        _ when column.StartsWith("ev", StringComparison.Ordinal) && column.EndsWith("_share", StringComparison.Ordinal) => "event_mix",
        _ when column.StartsWith("ev", StringComparison.Ordinal) => "event_counts",
        _ => "other",
    };

    private static string EventKey(int index) => $"ev{index.ToString("00", CultureInfo.InvariantCulture)}";

    public static string EventColumn(int index, string what) => $"{EventKey(index)}_{what}";

    public static string CategoryColumn(int index) => $"cat{index.ToString("00", CultureInfo.InvariantCulture)}_share";

    /// <summary>The feature set of this run, given the item categories that get a column (from <see cref="RenderTopCategories"/>).</summary>
    public static FeatureSpec For(StageContext c, IReadOnlyList<string> categories) =>
        new([.. c.Settings.Affinity.EventWeights.Keys], c.HasItems ? categories : [], c.HasItems, c.HasFollows);

    /// <summary>What <c>plan</c>, which reads no data, takes <see cref="RenderTopCategories"/> to answer: two example categories.</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, object?>> PlanCategories { get; } =
        [new Dictionary<string, object?> { ["category"] = "<category 1>" }, new Dictionary<string, object?> { ["category"] = "<category 2>" }];

    public static string RenderItemCategories(StageContext c) =>
        $"""
        SELECT
            item_id,
            min(category) AS category
        FROM {c.Q(SourceTables.Items)}
        WHERE category IS NOT NULL
        GROUP BY item_id
        """;

    public static string RenderTopCategories(StageContext c) =>
        $"""
        -- the most engaged item categories (ties by name): each gets a share feature
        SELECT
            ic.category,
            count(*) AS events
        FROM {c.Q("clean_events")} AS e
        JOIN (
        {Indent(RenderItemCategories(c), 1)}
        ) AS ic
            ON ic.item_id = e.item_id
        GROUP BY ic.category
        ORDER BY events DESC, ic.category
        LIMIT {c.Dialect.Literal((long)c.Settings.Features.MaxCategories)}
        """;

    /// <summary>
    /// The features of every user with an event at or before <paramref name="reference"/>, measured at that
    /// time (decay and recency relative to it). One row per user; every feature is a DOUBLE.
    /// </summary>
    public string RenderSelect(StageContext c, DateTime reference, string tableName)
    {
        var d = c.Dialect;
        var referenceSeconds = d.Literal((reference - DateTime.UnixEpoch).TotalSeconds);
        var halfLife = d.Literal(c.Settings.Affinity.HalfLifeDays * 86_400);
        string Dbl(string e) => $"CAST({e} AS DOUBLE)";
        string Ln1p(string e) => d.Ln($"{d.Literal(1.0)} + {Dbl(e)}");
        string Share(string e) => $"{Dbl(e)} / {Dbl("a.n_events")}";

        var aggregates = new List<string> { "count(*) AS n_events" };
        for (var i = 0; i < EventTypes.Count; i++)
        {
            var type = d.Literal(EventTypes[i]);
            aggregates.Add($"sum(CASE WHEN event_type = {type} THEN 1 ELSE 0 END) AS n_{EventKey(i)}");
            aggregates.Add($"{d.ExactSum($"CASE WHEN event_type = {type} THEN decay ELSE {d.Literal(0.0)} END")} AS d_{EventKey(i)}");
        }
        aggregates.Add("count(DISTINCT CAST(event_time AS DATE)) AS active_days");
        aggregates.Add($"max({d.EpochSeconds("event_time")}) AS last_seconds");
        aggregates.Add("sum(is_evening) AS n_evening");
        if (WithItems)
        {
            for (var j = 0; j < Categories.Count; j++)
                aggregates.Add($"sum(CASE WHEN category = {d.Literal(Categories[j])} THEN 1 ELSE 0 END) AS n_cat{j.ToString("00", CultureInfo.InvariantCulture)}");
            aggregates.Add("count(DISTINCT category) AS n_categories");
        }

        var features = new List<string> { $"{Ln1p("a.n_events")} AS log_events" };
        for (var i = 0; i < EventTypes.Count; i++)
        {
            features.Add($"{Ln1p($"a.n_{EventKey(i)}")} AS {EventColumn(i, "log_count")}");
            features.Add($"{Ln1p($"a.d_{EventKey(i)}")} AS {EventColumn(i, "log_decayed")}");
            features.Add($"{Share($"a.n_{EventKey(i)}")} AS {EventColumn(i, "share")}");
        }
        features.Add($"({referenceSeconds} - a.last_seconds) / {d.Literal(86_400.0)} AS recency_days");
        features.Add($"{Ln1p("a.active_days")} AS log_active_days");
        features.Add($"{Share("a.n_evening")} AS evening_share");
        var ctes = new StringBuilder();
        var joins = new StringBuilder();
        if (WithItems)
        {
            for (var j = 0; j < Categories.Count; j++)
                features.Add($"{Share($"a.n_cat{j.ToString("00", CultureInfo.InvariantCulture)}")} AS {CategoryColumn(j)}");
            features.Add($"coalesce(dv.entropy, {d.Literal(0.0)}) AS category_entropy");
            features.Add($"{Dbl("a.n_categories")} AS category_count");
            ctes.Append($"""
                ,
                category_mix AS (
                    SELECT
                        user_id,
                        category,
                        count(*) AS n
                    FROM events
                    WHERE category IS NOT NULL
                    GROUP BY
                        user_id,
                        category
                ),
                diversity AS (
                    SELECT
                        user_id,
                        -{d.ExactSum($"p * {d.Ln("p")}")} AS entropy
                    FROM (
                        SELECT
                            user_id,
                            CAST(n AS DOUBLE) / CAST(sum(n) OVER (PARTITION BY user_id) AS DOUBLE) AS p
                        FROM category_mix
                    ) AS shares
                    GROUP BY user_id
                )
                """);
            joins.Append("\nLEFT JOIN diversity AS dv\n    ON dv.user_id = a.user_id");
        }
        if (WithFollows)
        {
            features.Add($"{Ln1p("coalesce(fr.n, 0)")} AS log_followers");
            features.Add($"{Ln1p("coalesce(fe.n, 0)")} AS log_followees");
            ctes.Append($"""
                ,
                followers AS (
                    SELECT
                        followee_id AS user_id,
                        count(DISTINCT follower_id) AS n
                    FROM {c.Q(SourceTables.Follows)}
                    GROUP BY followee_id
                ),
                followees AS (
                    SELECT
                        follower_id AS user_id,
                        count(DISTINCT followee_id) AS n
                    FROM {c.Q(SourceTables.Follows)}
                    GROUP BY follower_id
                )
                """);
            joins.Append("\nLEFT JOIN followers AS fr\n    ON fr.user_id = a.user_id\nLEFT JOIN followees AS fe\n    ON fe.user_id = a.user_id");
        }

        var categoryJoin = WithItems
            ? $"\n    LEFT JOIN (\n{Indent(RenderItemCategories(c), 2)}\n    ) AS ic\n        ON ic.item_id = e.item_id"
            : "";
        var categoryColumn = WithItems ? "ic.category" : d.CastString("NULL");
        return $"""
            -- {tableName}: one row per user with events up to {reference:yyyy-MM-ddTHH:mm:ssZ}; every feature a DOUBLE measured at that time.
            -- Columns are generated names (ev00 = event type, cat00 = category); the mapping is in the manifest.
            WITH events AS (
                SELECT
                    e.user_id,
                    e.event_type,
                    e.event_time,
                    {categoryColumn} AS category,
                    power({d.Literal(0.5)}, ({referenceSeconds} - {d.EpochSeconds("e.event_time")}) / {halfLife}) AS decay,
                    CASE WHEN hour(e.event_time) >= {d.Literal((long)c.Settings.Features.EveningStartHour)} THEN 1 ELSE 0 END AS is_evening
                FROM {c.Q("clean_events")} AS e{categoryJoin}
                WHERE e.event_time <= {d.Timestamp(reference)}
            ),
            activity AS (
                SELECT
                    user_id,
                    {string.Join(",\n        ", aggregates)}
                FROM events
                GROUP BY user_id
            ){ctes}
            SELECT
                a.user_id,
                {string.Join(",\n    ", features)}
            FROM activity AS a{joins}
            """;
    }

    internal static string Indent(string sql, int levels)
    {
        var pad = new string(' ', 4 * levels);
        return string.Join("\n", sql.Split('\n').Select(line => line.Length == 0 ? line : pad + line));
    }
}
