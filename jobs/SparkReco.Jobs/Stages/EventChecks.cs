using System.Globalization;
using SparkReco.Core.Engine;
using SparkReco.Core.Errors;
using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages;

/// <summary>
/// Row-level checks of the events that footers cannot answer: nulls in keys, unknown event types,
/// impossible times, bad weights. One scan counts every reason; the policy settings decide whether
/// a count is an error (exit 3, nothing written) or rows to drop and report.
/// </summary>
public static class EventChecks
{
    public static readonly DateTime Earliest = new(1990, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>The predicates, shared by the count query and by <c>clean_events</c>, so both agree row for row.</summary>
    public static string NullKey => "user_id IS NULL OR item_id IS NULL OR event_type IS NULL OR event_time IS NULL";

    public static string BadTime(StageContext c) =>
        $"event_time < {c.Dialect.Timestamp(Earliest)} OR event_time > {c.Dialect.Timestamp(c.StartedAt)}";

    // Infinity passes isnan and "< 0" but turns every sum it enters into Infinity or NaN later (and DECIMAL
    // casts fail): the largest finite double is the portable bound (DuckDB and Spark both parse the literal).
    public static string BadWeight => "weight IS NOT NULL AND (isnan(weight) OR weight < 0 OR weight > 1.7976931348623157E308)";

    public static string KnownType(StageContext c) =>
        $"event_type IN ({string.Join(", ", c.Settings.Affinity.EventWeights.Keys.Select(c.Dialect.Literal))})";

    /// <summary>A row passes every check (it may still be outside the window).</summary>
    public static string Valid(StageContext c) =>
        $"NOT ({NullKey})\n    AND NOT ({BadTime(c)})\n    AND NOT ({BadWeight})\n    AND {KnownType(c)}";

    /// <summary>A valid row inside the window (as_of − LookbackDays, as_of].</summary>
    public static string InWindow(StageContext c) =>
        $"event_time <= {c.Dialect.Timestamp(c.AsOf)}" + (c.Settings.Clean.LookbackDays > 0
            ? $" AND event_time > {c.Dialect.Timestamp(c.AsOf.AddDays(-c.Settings.Clean.LookbackDays))}"
            : "");

    /// <summary>Counts that describe rows rather than problems (not reported as "dropped").</summary>
    public static readonly IReadOnlySet<string> Totals = new HashSet<string>(StringComparer.Ordinal) { "total_rows", "kept" };

    public static string RenderCounts(StageContext c, string table = SourceTables.Events) =>
        $"""
        -- event checks: one row of counts, one column per reason a row is invalid or out of the window, and the rows kept.
        SELECT
            count(*) AS total_rows,
            sum(CASE WHEN user_id IS NULL THEN 1 ELSE 0 END) AS null_user_id,
            sum(CASE WHEN item_id IS NULL THEN 1 ELSE 0 END) AS null_item_id,
            sum(CASE WHEN event_type IS NULL THEN 1 ELSE 0 END) AS null_event_type,
            sum(CASE WHEN event_time IS NULL THEN 1 ELSE 0 END) AS null_event_time,
            sum(CASE WHEN event_time < {c.Dialect.Timestamp(Earliest)} THEN 1 ELSE 0 END) AS before_1990,
            sum(CASE WHEN event_time > {c.Dialect.Timestamp(c.StartedAt)} THEN 1 ELSE 0 END) AS in_future,
            sum(CASE WHEN {BadWeight} THEN 1 ELSE 0 END) AS bad_weight,
            sum(CASE WHEN event_type IS NOT NULL AND NOT ({KnownType(c)}) THEN 1 ELSE 0 END) AS unknown_event_type,
            sum(CASE WHEN {Valid(c)} AND NOT ({InWindow(c)}) THEN 1 ELSE 0 END) AS outside_window,
            sum(CASE WHEN {Valid(c)} AND {InWindow(c)} THEN 1 ELSE 0 END) AS kept
        FROM {c.Q(table)}
        """;

    public static string RenderUnknownTypes(StageContext c) =>
        $"""
        -- the most frequent event types that have no weight, for the error message
        SELECT
            event_type,
            count(*) AS n
        FROM {c.Q(SourceTables.Events)}
        WHERE event_type IS NOT NULL AND NOT ({KnownType(c)})
        GROUP BY event_type
        ORDER BY n DESC, event_type
        LIMIT 5
        """;

    /// <summary>Counts every reason and applies the policies; returns the counts (for facts and the validate report).</summary>
    public static async Task<IReadOnlyDictionary<string, long>> RunAsync(IEngine engine, StageContext c, string eventsPath, CancellationToken ct)
    {
        IReadOnlyDictionary<string, long>? counts = null;
        await StepWalker.RunAsync("", Steps(c, eventsPath, result => counts = result), engine, new StageRows(), c.Logger, ct);
        return counts!;
    }

    /// <summary>
    /// The checks as steps (<c>plan</c> prints them as the run's validate_rows): one counting scan; when unknown event types
    /// fail the run, a second query names the most frequent ones. A failed check stops here; <paramref name="onCounts"/> hears the rest.
    /// </summary>
    public static IEnumerable<StageStep> Steps(StageContext c, string eventsPath, Action<IReadOnlyDictionary<string, long>> onCounts)
    {
        Dictionary<string, long>? counts = null;
        yield return new QueryStep(RenderCounts(c), rows =>
            counts = rows[0].ToDictionary(kv => kv.Key, kv => kv.Value is null ? 0L : Convert.ToInt64(kv.Value, CultureInfo.InvariantCulture), StringComparer.Ordinal));
        if (counts is null) yield break; // plan: the data is not read, so nothing follows from the counts
        IReadOnlyList<IReadOnlyDictionary<string, object?>> examples = [];
        if (c.Settings.Clean.UnknownEventTypes == "fail" && counts["unknown_event_type"] > 0)
            yield return new QueryStep(RenderUnknownTypes(c), rows => examples = rows);
        var problems = Problems(c, eventsPath, counts, examples);
        if (problems.Count > 0)
            throw new InputDataException("Input events fail the row checks (nothing was written):" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  - " + p)), problems);
        onCounts(counts);
    }

    private static List<string> Problems(StageContext c, string eventsPath, Dictionary<string, long> counts, IReadOnlyList<IReadOnlyDictionary<string, object?>> examples)
    {
        var columns = c.Settings.Input.Columns;
        var clean = c.Settings.Clean;
        var problems = new List<string>();

        if (counts["total_rows"] == 0)
            problems.Add($"events '{eventsPath}': no rows to read; check the export that writes it.");

        if (clean.InvalidRows == "fail")
        {
            void Check(string key, string column, string what, string fix)
            {
                if (counts[key] > 0)
                    problems.Add($"events '{eventsPath}', column '{column}': {counts[key]:N0} rows {what}; {fix}, or set Clean:InvalidRows to \"drop\" to drop and count them.");
            }
            const string NullFix = "fill or filter them in the export";
            Check("null_user_id", columns.UserId, "have a null user id", NullFix);
            Check("null_item_id", columns.ItemId, "have a null item id", NullFix);
            Check("null_event_type", columns.EventType, "have a null event type", NullFix);
            Check("null_event_time", columns.EventTime, "have a null event time", NullFix);
            Check("before_1990", columns.EventTime, "are dated before 1990-01-01 (usually a zero or seconds-vs-milliseconds mix-up)", "fix the time unit in the export");
            Check("in_future", columns.EventTime, $"are dated after the run started ({c.StartedAt:yyyy-MM-ddTHH:mm:ssZ}); clocks or time zones are off", "fix the times in the export");
            Check("bad_weight", columns.Weight, "have a negative, NaN or infinite weight", "make weights finite and non-negative");
        }

        if (clean.UnknownEventTypes == "fail" && counts["unknown_event_type"] > 0)
        {
            var list = string.Join(", ", examples.Select(r => $"'{r["event_type"]}' ({Convert.ToInt64(r["n"], CultureInfo.InvariantCulture):N0})"));
            problems.Add(
                $"events '{eventsPath}', column '{columns.EventType}': {counts["unknown_event_type"]:N0} rows have event types with no weight: {list}. " +
                $"Known types: {string.Join(", ", c.Settings.Affinity.EventWeights.Keys)}. Add them under Affinity:EventWeights, or set Clean:UnknownEventTypes to \"drop\".");
        }
        return problems;
    }
}
