using SparkReco.Core.Engine;
using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages.Modelling;

/// <summary>
/// user_features: one row per user — activity per event type (counts and decayed), recency, active days,
/// evening share, category shares and diversity (with items), follower/followee counts (with follows).
/// Intermediate: segments and user_scores read it.
/// </summary>
public sealed class UserFeaturesStage : IStage
{
    public const string Table = "user_features";

    public string Name => Table;
    public string Description => "one row per user: activity, recency, category mix and follow-graph features (DOUBLE)";
    public IReadOnlyList<string> Inputs => ["clean_events"];
    public bool IsOutput => false;
    public IReadOnlyList<string> OutputOrder => [];

    public bool IsEnabled(StageContext context) => context.Settings.Segments.Enabled || (context.Settings.Scores.Enabled && context.HasItems);

    public IEnumerable<string> RenderSql(StageContext c)
    {
        var sql = new List<string>();
        if (c.HasItems) sql.Add("-- categories are discovered first (the cat00… columns follow this order):\n" + FeatureSpec.RenderTopCategories(c));
        sql.AddRange(c.Dialect.Materialize(Name, FeatureSpec.ForPlan(c).RenderSelect(c, c.AsOf, Name)));
        return sql;
    }

    public async Task<long> RunAsync(IEngine engine, StageContext c, CancellationToken ct)
    {
        var spec = await FeatureSpec.DiscoverAsync(engine, c, ct);
        var rows = await engine.CreateTableAsync(Name, spec.RenderSelect(c, c.AsOf, Name), ct);
        c.Facts["user_features.columns"] = new SortedDictionary<string, string>(spec.Columns.ToDictionary(f => f.Name, f => f.Meaning), StringComparer.Ordinal);
        return rows;
    }
}
