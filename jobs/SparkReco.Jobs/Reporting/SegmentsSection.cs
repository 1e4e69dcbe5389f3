using System.Globalization;
using SparkReco.Core.Stages;
using SparkReco.Jobs.Running;
using SparkReco.Jobs.Stages.Modelling;

namespace SparkReco.Jobs.Reporting;

/// <summary>Segment sizes and profiles (only the k-anonymous rows the table publishes).</summary>
public sealed class SegmentsSection : IReportSection
{
    public int Order => 40;

    public bool IsEnabled(StageContext context) => context.Settings.Segments.Enabled;

    public IReadOnlyList<string> Queries(StageContext context) =>
    [
        $"""
        -- report: the published segment profiles
        SELECT segment, label, users, share, events_per_user, event_mix, top_categories, top_items
        FROM {context.Q(SegmentProfilesStage.Table)}
        ORDER BY segment
        """,
    ];

    public string Render(StageContext context, RunSummary summary, IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<string, object?>>> results)
    {
        var rows = results[0];
        string Name(IReadOnlyDictionary<string, object?> r) =>
            Convert.ToInt64(r["segment"], CultureInfo.InvariantCulture) == SegmentProfilesStage.Other ? "other" : Convert.ToString(r["segment"], CultureInfo.InvariantCulture)!;
        var sizes = Html.BarChart(rows.Select(r => ($"{Name(r)}: {r["label"]}", Convert.ToDouble(r["users"], CultureInfo.InvariantCulture))).ToList(), " users");
        var table = Html.Table(["segment", "label", "users", "share", "events / user", "event mix", "top categories (lift)", "top items (lift)"],
            rows.Select(r => (IReadOnlyList<object?>)[Name(r), r["label"], r["users"], r["share"], r["events_per_user"], r["event_mix"], r["top_categories"], r["top_items"]]));
        object k = context.Results.Find<SegmentMetrics>()?.K ?? (object)"?";
        var profiles = context.Results.Find<ProfileFacts>();
        var suppressed = profiles?.SuppressedSegments ?? 0;
        var suppressedUsers = profiles?.SuppressedUsers ?? 0;
        var note = $"<p class=\"meta\">k = {Html.Encode(k)} segments (k-means fitted on a sample, assigned to every user in the engine). " +
            $"{Html.Encode(suppressed)} segment(s) with {Html.Encode(suppressedUsers)} user(s) are below k-anonymity ({Html.Encode(context.Settings.Privacy.KAnonymity)} users) and are not shown individually.</p>";
        return Html.Section("Segments", note + sizes + table);
    }
}
