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
