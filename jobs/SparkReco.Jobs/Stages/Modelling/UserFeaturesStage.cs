using System.Globalization;
using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages.Modelling;

/// <summary>
/// user_features: one row per user — activity per event type (counts and decayed), recency, active days,
/// evening share, category shares and diversity (with items), follower/followee counts (with follows).
/// Intermediate: segments and user_scores read it, and the <see cref="FeatureSpec"/> it settles (a typed result).
/// </summary>
public sealed class UserFeaturesStage : StepStage
{
    public const string Table = "user_features";

    public override string Name => Table;
    public override string Description => "one row per user: activity, recency, category mix and follow-graph features (DOUBLE)";
    public override IReadOnlyList<string> Inputs => ["clean_events"];

    public override bool IsEnabled(StageContext context) => context.Settings.Segments.Enabled || (context.Settings.Scores.Enabled && context.HasItems);
    public override string DisabledReason(StageContext context) =>
        "no stage reads it: Segments:Enabled=false, and user_scores does not run (" + UserScoresStage.WhyNot(context) + ")";

    public override IEnumerable<StageStep> Steps(StageContext c, StageRows result)
    {
        var categories = new List<string>();
        if (c.HasItems)
        {
            yield return new QueryStep(
                "-- categories are discovered first (the cat00… columns follow this order):\n" + FeatureSpec.RenderTopCategories(c),
                rows => categories.AddRange(rows.Select(r => Convert.ToString(r["category"], CultureInfo.InvariantCulture)!)),
                FeatureSpec.PlanCategories);
        }
        var spec = FeatureSpec.For(c, categories);
        c.Results.Set(spec);
        c.Facts["user_features.columns"] = new SortedDictionary<string, string>(spec.Columns.ToDictionary(f => f.Name, f => f.Meaning), StringComparer.Ordinal);
        yield return new MaterializeStep(Name, spec.RenderSelect(c, c.AsOf, Name));
    }
}
