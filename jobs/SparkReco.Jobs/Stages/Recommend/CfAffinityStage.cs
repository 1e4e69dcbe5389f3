using System.Globalization;
using Microsoft.Extensions.Logging;
using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>
/// cf_affinity: affinity on dense integer ids, the input of every collaborative-filtering stage (SQL or kernel).
/// Helper tables cf_users and cf_items are the run's dictionaries: ids numbered 0, 1, … in ascending id order, so
/// "lowest id first" tie-breaks give the same order on the integers. Only the published tables carry the original ids.
/// </summary>
public sealed class CfAffinityStage(TableScope? scope = null) : MultiTableStage
{
    private readonly TableScope _scope = scope ?? TableScope.Main;

    public override string Name => _scope["cf_affinity"];
    public override string Description => "one row per (user, item) of affinity on dense integer ids (dictionaries cf_users, cf_items)";
    public override IReadOnlyList<string> Inputs => [_scope["affinity"]];
    public override bool IsEnabled(StageContext context) => context.Settings.Recommend.Enabled;
    public override string DisabledReason(StageContext context) => "Recommend:Enabled=false";

    public string Users => _scope["cf_users"];
    public string Items => _scope["cf_items"];

    public override IReadOnlyList<(string Table, string Select)> Steps(StageContext c) =>
    [
        (Users, Dictionary(c, Users, "user")),
        (Items, Dictionary(c, Items, "item")),
        (Name, $"""
            -- {Name}: one row per (user_ix, item_ix): affinity with the ids replaced by their dense numbers.
            SELECT
                u.user_ix,
                i.item_ix,
                a.affinity,
                a.last_event_time
            FROM {c.Q(_scope["affinity"])} AS a
            JOIN {c.Q(Users)} AS u
                ON u.user_id = a.user_id
            JOIN {c.Q(Items)} AS i
                ON i.item_id = a.item_id
            """),
    ];

    /// <summary>A pair last touched this many half-lives before as_of weighs at most 2⁻³ = 1/8 of a fresh one.</summary>
    private const int StaleHalfLives = 3;

    /// <summary>
    /// How many (user, item) pairs were last engaged with more than <see cref="StaleHalfLives"/> half-lives before as_of:
    /// the default half-life suits a social feed, and on ratings or purchases spread over months it silently weighs most
    /// of the history down to almost nothing (about 10% of nDCG on a public rating benchmark), so the run says so.
    /// </summary>
    public override IReadOnlyList<string> FactQueries(StageContext c)
    {
        var staleSeconds = c.Settings.Affinity.HalfLifeDays * 86_400 * StaleHalfLives;
        var asOfSeconds = (c.AsOf - DateTime.UnixEpoch).TotalSeconds;
        return
        [
            $"""
            -- {Name} facts: (user, item) pairs, and those last engaged with more than {StaleHalfLives} half-lives
            -- ({c.Settings.Affinity.HalfLifeDays.ToString(CultureInfo.InvariantCulture)} days each, Affinity:HalfLifeDays) before as_of.
            SELECT
                count(*) AS pairs,
                sum(CASE WHEN {c.Dialect.Literal(asOfSeconds)} - {c.Dialect.EpochSeconds("last_event_time")} > {c.Dialect.Literal(staleSeconds)} THEN 1 ELSE 0 END) AS stale_pairs
            FROM {c.Q(Name)}
            """,
        ];
    }

    protected override void OnFacts(StageContext context)
    {
        // The evaluation's train copy would only repeat the warning.
        if (_scope == TableScope.Main && StaleHistoryNote(context) is { } note) context.Logger.LogWarning("Stage {Stage}: {Note}", Name, note);
    }

    /// <summary>
    /// The sentence the log and the report give when most pairs are stale (see <see cref="FactQueries"/>), or null;
    /// from the main run's facts.
    /// </summary>
    public static string? StaleHistoryNote(StageContext context)
    {
        if (!context.Facts.TryGetValue("cf_affinity.pairs", out var p) || !context.Facts.TryGetValue("cf_affinity.stale_pairs", out var st)) return null;
        var pairs = Convert.ToInt64(p, CultureInfo.InvariantCulture);
        var stale = Convert.ToInt64(st, CultureInfo.InvariantCulture);
        if (pairs == 0 || stale * 2 <= pairs) return null;
        var halfLife = context.Settings.Affinity.HalfLifeDays;
        var days = (halfLife * StaleHalfLives).ToString(CultureInfo.InvariantCulture);
        return $"{Math.Round(100.0 * stale / pairs).ToString(CultureInfo.InvariantCulture)}% of the (user, item) pairs were last engaged with more than {days} days " +
            $"({StaleHalfLives} half-lives, Affinity:HalfLifeDays={halfLife.ToString(CultureInfo.InvariantCulture)}) before as_of, so their affinity is below 1/8 of a fresh one. " +
            "That suits a feed where old engagement should fade; for ratings, purchases or other long histories set Affinity:HalfLifeDays much larger (e.g. 3650), " +
            "or let `sparkreco tune` choose it.";
    }

    private string Dictionary(StageContext c, string table, string kind) =>
        $"""
        -- {table}: one row per {kind}_id in affinity, numbered from 0 in ascending id order.
        SELECT
            {kind}_id,
            CAST(row_number() OVER (ORDER BY {kind}_id ASC) - 1 AS INTEGER) AS {kind}_ix
        FROM (
            SELECT DISTINCT
                {kind}_id
            FROM {c.Q(_scope["affinity"])}
        ) AS distinct_ids
        """;
}
