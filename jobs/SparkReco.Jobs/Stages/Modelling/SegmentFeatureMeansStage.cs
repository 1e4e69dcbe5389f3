using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages.Modelling;

/// <summary>
/// segment_feature_means: segment_profiles' mean features in long form, one row per (segment, feature), each labelled
/// with what it measures in this run ("share of events on items in category 'sports'"), the event type or category it is
/// about, and its group. The wide profile columns are named by slot (mean_cat01_share), because data values never become
/// identifiers; this table is where a dashboard finds the names. Built from segment_profiles, so it reports exactly the
/// segments k-anonymity lets through.
/// </summary>
public sealed class SegmentFeatureMeansStage : SqlStage
{
    public const string Table = "segment_feature_means";

    public override string Name => Table;
    public override string Description => "one row per reported segment and feature: the feature's slot name, what it measures in this run, its event type or category, its group and the segment's mean";
    public override IReadOnlyList<string> Inputs => [SegmentProfilesStage.Table];
    public override bool IsOutput => true;
    public override IReadOnlyList<string> OutputOrder => ["segment", "position"];
    public override bool IsEnabled(StageContext context) => context.Settings.Segments.Enabled;
    public override string DisabledReason(StageContext context) => "Segments:Enabled=false";

    public override string Render(StageContext c)
    {
        var d = c.Dialect;
        var spec = c.Results.Get<FeatureSpec>();
        var rows = spec.Columns.Select((column, position) =>
        {
            var (eventType, category) = Subject(spec, column.Name);
            return $"""
                SELECT
                    segment,
                    {d.Literal((long)position)} AS position,
                    {d.Literal(column.Name)} AS feature,
                    {d.Literal(column.Meaning)} AS meaning,
                    {Text(c, eventType)} AS event_type,
                    {Text(c, category)} AS category,
                    {d.Literal(FeatureSpec.GroupOf(column.Name))} AS feature_group,
                    {c.Q(SegmentProfilesStage.MeanColumn(column.Name))} AS mean
                FROM {c.Q(SegmentProfilesStage.Table)}
                """;
        });
        return $"-- {Table}: segment_profiles' mean features, one row per segment and feature, labelled\n" +
            string.Join("\nUNION ALL\n", rows);
    }

    private static string Text(StageContext c, string? value) => value is null ? c.Dialect.CastString("NULL") : c.Dialect.Literal(value);

    /// <summary>The event type or category a generated column is about (the slot's index into the run's lists), if any.</summary>
    private static (string? EventType, string? Category) Subject(FeatureSpec spec, string column)
    {
        for (var i = 0; i < spec.EventTypes.Count; i++)
            if (column.StartsWith(FeatureSpec.EventColumn(i, ""), StringComparison.Ordinal)) return (spec.EventTypes[i], null);
        for (var j = 0; j < spec.Categories.Count; j++)
            if (column == FeatureSpec.CategoryColumn(j)) return (null, spec.Categories[j]);
        return (null, null);
    }
}
