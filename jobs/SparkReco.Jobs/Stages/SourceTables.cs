using SparkReco.Core.Configuration;
using SparkReco.Core.Sql;
using SparkReco.Input;

namespace SparkReco.Jobs.Stages;

/// <summary>
/// Views that present the user's files under the contract's names and types: ids as strings (the
/// contract accepts integer ids too), times as TIMESTAMP, weights as DOUBLE. Every stage reads these,
/// never the files, so column mapping happens in exactly one place.
/// </summary>
public static class SourceTables
{
    public const string Events = "events_source";
    public const string Items = "items_source";
    public const string Follows = "follows_source";

    public static IReadOnlyList<string> Render(InputCatalog catalog, ColumnMapping c, ISqlDialect d)
    {
        var views = new List<string>();
        views.AddRange(View(d, Events, "one row per input event, as the contract names and types it", catalog.Events.Source, [
                $"{d.CastString(d.Quote(c.UserId))} AS user_id",
                $"{d.CastString(d.Quote(c.ItemId))} AS item_id",
                $"{d.CastString(d.Quote(c.EventType))} AS event_type",
                $"{d.ToTimestamp(d.Quote(c.EventTime))} AS event_time",
                catalog.EventsHaveWeight(c) ? $"CAST({d.Quote(c.Weight)} AS DOUBLE) AS weight" : "CAST(NULL AS DOUBLE) AS weight",
            ]));
        if (catalog.Items is { } items)
        {
            views.AddRange(View(d, Items, "one row per item with its metadata", items.Source, [
                $"{d.CastString(d.Quote(c.ItemId))} AS item_id",
                $"{d.CastString(d.Quote(c.Category))} AS category",
                items.Columns.Contains(c.CreatorId) ? $"{d.CastString(d.Quote(c.CreatorId))} AS creator_id" : $"{d.CastString("NULL")} AS creator_id",
            ]));
        }
        if (catalog.Follows is { } follows)
        {
            views.AddRange(View(d, Follows, "one row per follow edge", follows.Source, [
                $"{d.CastString(d.Quote(c.FollowerId))} AS follower_id",
                $"{d.CastString(d.Quote(c.FolloweeId))} AS followee_id",
            ]));
        }
        return views;
    }

    private static List<string> View(ISqlDialect d, string name, string grain, ParquetSource source, IReadOnlyList<string> columns)
    {
        var statements = d.CreateParquetView(name, source, from =>
            $"""
            SELECT
                {string.Join(",\n    ", columns)}
            FROM {from}
            """).ToList();
        statements[0] = $"-- {name}: {grain}.\n" + statements[0];
        return statements;
    }
}
