using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>
/// item_popularity: how popular each item is now. <c>popularity</c> is the decayed popularity (the sum of
/// affinity over users) that orders the back-fill; <c>users</c> (distinct users) is the popularity the
/// penalty and the evaluation's popularity-bias figures use.
/// </summary>
public sealed class ItemPopularityStage(TableScope? scope = null) : SqlStage
{
    private readonly TableScope _scope = scope ?? TableScope.Main;

    public override string Name => _scope["item_popularity"];
    public override string Description => "one row per item: decayed popularity (sum of affinity) and number of users";
    public override IReadOnlyList<string> Inputs => [_scope["affinity"]];
    public override bool IsEnabled(StageContext context) => context.Settings.Recommend.Enabled;

    public override string Render(StageContext c) =>
        $"""
        -- {Name}: one row per item_id.
        -- popularity = sum of affinity over users (time-decayed, type-weighted); users = distinct users.
        SELECT
            item_id,
            {c.Dialect.ExactSum("affinity")} AS popularity,
            count(*) AS users
        FROM {c.Q(_scope["affinity"])}
        GROUP BY
            item_id
        """;
}
