using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages;

/// <summary>What cleaning kept and dropped: rows read, rows kept, rows dropped per reason, bot users (when bots are filtered).</summary>
public sealed record CleaningFacts(long RowsIn, long RowsOut, IReadOnlyDictionary<string, long> Dropped, long? BotUsers) : IManifestFacts
{
    public IEnumerable<KeyValuePair<string, object>> ManifestFacts()
    {
        yield return new("clean_events.rows_in", RowsIn);
        yield return new("clean_events.rows_out", RowsOut);
        yield return new("clean_events.dropped", Dropped);
        if (BotUsers is { } bots) yield return new("clean_events.bot_users", bots);
    }
}
