using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>
/// item_popularity: how popular each item is now, keyed by both the item id and its dense number. <c>popularity</c> is
/// the decayed popularity (the sum of affinity over users) that orders the back-fill; <c>users</c> (distinct users) is
/// the popularity the penalty and the evaluation's popularity-bias figures use.
/// </summary>
public sealed class ItemPopularityStage(TableScope? scope = null) : SqlStage
{
    private readonly TableScope _scope = scope ?? TableScope.Main;

    public override string Name => _scope["item_popularity"];
    public override string Description => "one row per item: decayed popularity (sum of affinity) and number of users";
    public override IReadOnlyList<string> Inputs => [_scope["affinity"], _scope["cf_affinity"]];
    public override bool IsEnabled(StageContext context) => context.Settings.Recommend.Enabled;
    public override string DisabledReason(StageContext context) => "Recommend:Enabled=false";

    public override string Render(StageContext c) =>
        $"""
        -- {Name}: one row per item_id (with its item_ix).
        -- popularity = sum of affinity over users (time-decayed, type-weighted); users = distinct users.
        SELECT
            i.item_ix,
            a.item_id,
            {c.Dialect.ExactSum("a.affinity")} AS popularity,
            count(*) AS users
        FROM {c.Q(_scope["affinity"])} AS a
        JOIN {c.Q(_scope["cf_items"])} AS i
            ON i.item_id = a.item_id
        GROUP BY
            i.item_ix,
            a.item_id
        """;
}
