using System.Globalization;
using SparkReco.Core.Engine;
using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages;

/// <summary>
/// clean_events: the events every later stage trusts. Checks rows (fail or drop per policy), removes
/// exact duplicates, keeps the window (as_of − LookbackDays, as_of], and drops bots (users with more
/// events than Clean:BotMaxEventsPerUser). Counts per reason go to the manifest.
/// </summary>
public sealed class CleanEventsStage : IStage
{
    public const string Valid = "events_valid";

    public string Name => "clean_events";
    public string Description => "one row per distinct valid event in the window, bots removed";
    public IReadOnlyList<string> Inputs => [SourceTables.Events];
    public bool IsOutput => false;
    public IReadOnlyList<string> OutputOrder => [];

    public IEnumerable<string> RenderSql(StageContext c) =>
    [
        EventChecks.RenderCounts(c),
        $"CREATE OR REPLACE TABLE {c.Q(Valid)} AS\n{RenderValid(c)}",
        $"CREATE OR REPLACE TABLE {c.Q(Name)} AS\n{RenderClean(c)}",
    ];

    public async Task<long> RunAsync(IEngine engine, StageContext c, CancellationToken ct)
    {
        // The runner validates rows before any stage; a stage run on its own (tests, sub-plans) checks here.
        var counts = c.InputChecks ?? await EventChecks.RunAsync(engine, c, c.Settings.Input.Events ?? "", ct);
        var valid = await engine.CreateTableAsync(Valid, RenderValid(c), ct);
        var clean = await engine.CreateTableAsync(Name, RenderClean(c), ct);

        var dropped = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, value) in counts)
            if (key != "total_rows" && value > 0) dropped[key] = value;
        var inWindow = await engine.QueryAsync(RenderWindowCount(c), ct);
        var keptBeforeDedup = Convert.ToInt64(inWindow[0]["n"], CultureInfo.InvariantCulture);
        var outside = Convert.ToInt64(inWindow[0]["outside"], CultureInfo.InvariantCulture);
        if (outside > 0) dropped["outside_window"] = outside;
        if (keptBeforeDedup - valid > 0) dropped["duplicate"] = keptBeforeDedup - valid;
        if (valid - clean > 0) dropped["bot"] = valid - clean;
        c.Facts["clean_events.rows_in"] = counts["total_rows"];
        c.Facts["clean_events.rows_out"] = clean;
        c.Facts["clean_events.dropped"] = dropped;
        if (c.Settings.Clean.BotMaxEventsPerUser > 0)
        {
            var bots = await engine.QueryAsync(RenderBotCount(c), ct);
            c.Facts["clean_events.bot_users"] = Convert.ToInt64(bots[0]["n"], CultureInfo.InvariantCulture);
        }
        return clean;
    }

    /// <summary>Valid, in-window rows: the predicate both the SELECT and the window count use.</summary>
    private static string Keep(StageContext c)
    {
        var window = c.Settings.Clean.LookbackDays > 0
            ? $"\n    AND event_time > {c.Dialect.Timestamp(c.AsOf.AddDays(-c.Settings.Clean.LookbackDays))}"
            : "";
        return $"""
            NOT ({EventChecks.NullKey})
                AND NOT ({EventChecks.BadTime(c)})
                AND NOT ({EventChecks.BadWeight})
                AND {EventChecks.KnownType(c)}
                AND event_time <= {c.Dialect.Timestamp(c.AsOf)}{window}
            """;
    }

    private static string RenderValid(StageContext c) =>
        $"""
        -- events_valid: distinct valid events in (as_of - lookback, as_of]; exact duplicates collapse to one row.
        SELECT DISTINCT
            user_id,
            item_id,
            event_type,
            event_time,
            weight
        FROM {c.Q(SourceTables.Events)}
        WHERE {Keep(c)}
        """;

    private static string RenderClean(StageContext c)
    {
        var max = c.Settings.Clean.BotMaxEventsPerUser;
        var botFilter = max > 0
            ? $"""

            WHERE user_id NOT IN (
                SELECT user_id
                FROM {c.Q(Valid)}
                GROUP BY user_id
                HAVING count(*) > {c.Dialect.Literal(max)}
            )
            """
            : "";
        return $"""
            -- clean_events: one row per distinct valid event; weight defaults to 1 when the input has none.
            SELECT
                user_id,
                item_id,
                event_type,
                event_time,
                coalesce(weight, {c.Dialect.Literal(1.0)}) AS weight
            FROM {c.Q(Valid)}{botFilter}
            """;
    }

    private static string RenderWindowCount(StageContext c) =>
        $"""
        SELECT
            sum(CASE WHEN {Keep(c)} THEN 1 ELSE 0 END) AS n,
            sum(CASE WHEN NOT ({EventChecks.NullKey}) AND NOT ({EventChecks.BadTime(c)}) AND NOT ({EventChecks.BadWeight}) AND {EventChecks.KnownType(c)} AND NOT ({Keep(c)}) THEN 1 ELSE 0 END) AS outside
        FROM {c.Q(SourceTables.Events)}
        """;

    private static string RenderBotCount(StageContext c) =>
        $"""
        SELECT count(*) AS n
        FROM (
            SELECT user_id
            FROM {c.Q(Valid)}
            GROUP BY user_id
            HAVING count(*) > {c.Dialect.Literal(c.Settings.Clean.BotMaxEventsPerUser)}
        ) AS bots
        """;
}
