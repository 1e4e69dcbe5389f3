using System.Globalization;
using SparkReco.Core.Errors;
using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages;

/// <summary>
/// clean_events: the events every later stage trusts. Rows failing a check (counted by the
/// validation scan) and rows outside the window (as_of − LookbackDays, as_of] are left out, exact
/// duplicates collapse to one row, and bots (users with more than Clean:BotMaxEventsPerUser events)
/// are removed. Counts per reason go to the manifest.
/// </summary>
/// <remarks>
/// Only the de-duplicated events are materialised; clean_events is a view that removes the (few) bot
/// users from them, so 10⁸ events are written to the engine's storage once, not twice.
/// </remarks>
public sealed class CleanEventsStage : StepStage
{
    public const string Valid = "events_valid";
    public const string Bots = "bot_users";

    public override string Name => "clean_events";
    public override string Description => "one row per distinct valid event in the window, bots removed";
    public override IReadOnlyList<string> Inputs => [SourceTables.Events];

    private static bool FiltersBots(StageContext c) => c.Settings.Clean.BotMaxEventsPerUser > 0;

    public override IEnumerable<StageStep> Steps(StageContext c, StageRows result)
    {
        // The runner validates rows before any stage; a stage run on its own (tests, sub-plans) checks here.
        if (c.InputChecks is null)
            foreach (var step in EventChecks.Steps(c, c.Settings.Input.Events ?? "", counts => c.InputChecks = counts))
                yield return step;
        long distinct = 0, botUsers = 0, botEvents = 0;
        yield return new MaterializeStep(Valid, RenderValid(c), rows => distinct = rows);
        if (FiltersBots(c))
        {
            yield return new MaterializeStep(Bots, RenderBots(c), rows => botUsers = rows);
            yield return new QueryStep($"SELECT coalesce(sum(events), 0) AS n FROM {c.Q(Bots)}", rows => botEvents = Convert.ToInt64(rows[0]["n"], CultureInfo.InvariantCulture));
        }
        yield return new ExecuteStep(c.Dialect.CreateView(Name, RenderClean(c)));
        yield return new DriverStep("rows dropped per reason, from the validation counts and the rows kept", () =>
        {
            var counts = c.InputChecks!;
            var clean = distinct - botEvents;
            if (clean == 0)
            {
                // Publishing empty tables over the previous good output is never what a run is for.
                var lookback = c.Settings.Clean.LookbackDays > 0 ? $" and Clean:LookbackDays = {c.Settings.Clean.LookbackDays}" : "";
                throw new InputDataException(
                    $"events '{c.Settings.Input.Events}': no usable event falls in the window ending at as_of {c.AsOf:yyyy-MM-ddTHH:mm:ssZ}{lookback} " +
                    $"({counts["total_rows"]:N0} rows read, {counts["kept"]:N0} valid and inside the window{(botEvents > 0 ? ", the rest of the window are bots" : "")}). " +
                    "Set --as-of / Affinity:AsOf inside the data's time range (or leave it empty for the latest event time), or widen Clean:LookbackDays. Nothing was published.");
            }
            var dropped = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var (reason, rows) in counts)
                if (!EventChecks.Totals.Contains(reason) && rows > 0) dropped[reason] = rows;
            if (counts["kept"] > distinct) dropped["duplicate"] = counts["kept"] - distinct;
            if (botEvents > 0) dropped["bot"] = botEvents;
            c.Results.Set(new CleaningFacts(counts["total_rows"], clean, dropped, FiltersBots(c) ? botUsers : null));
            result.Rows = clean;
        });
    }

    private static string RenderValid(StageContext c) =>
        $"""
        -- events_valid: distinct valid events in the window; exact duplicates collapse to one row.
        -- A missing weight means 1, so it is filled in before duplicates are compared.
        SELECT DISTINCT
            user_id,
            item_id,
            event_type,
            event_time,
            coalesce(weight, {c.Dialect.Literal(1.0)}) AS weight
        FROM {c.Q(SourceTables.Events)}
        WHERE {EventChecks.Valid(c)}
            AND {EventChecks.InWindow(c)}
        """;

    private static string RenderBots(StageContext c) =>
        $"""
        -- bot_users: one row per user with more events in the window than Clean:BotMaxEventsPerUser.
        SELECT
            user_id,
            count(*) AS events
        FROM {c.Q(Valid)}
        GROUP BY user_id
        HAVING count(*) > {c.Dialect.Literal(c.Settings.Clean.BotMaxEventsPerUser)}
        """;

    private static string RenderClean(StageContext c)
    {
        var (grain, botFilter) = FiltersBots(c)
            ? (", bots removed", $"\nWHERE user_id NOT IN (SELECT user_id FROM {c.Q(Bots)})")
            : ("", "");
        return $"""
            -- clean_events: one row per distinct valid event in the window{grain}.
            SELECT
                user_id,
                item_id,
                event_type,
                event_time,
                weight
            FROM {c.Q(Valid)}{botFilter}
            """;
    }
}
