using System.Globalization;
using SparkReco.Core.Stages;
using SparkReco.Jobs.Running;
using SparkReco.Jobs.Stages.Modelling;

namespace SparkReco.Jobs.Reporting;

/// <summary>
/// Segment sizes and profiles (only the k-anonymous rows the table publishes). The profile's mean feature columns are named
/// by slot (<c>mean_cat01_share</c>), and the slot's category comes from the data, so the report names them through the run's
/// <see cref="FeatureSpec"/>: every category and event type under its real name.
/// </summary>
public sealed class SegmentsSection : IReportSection
{
    public int Order => 40;

    public bool IsEnabled(StageContext context) => context.Settings.Segments.Enabled;

    // Every column: the mean features are read by name through FeatureSpec, so the query does not depend on the data's categories.
    public IReadOnlyList<string> Queries(StageContext context) =>
    [
        $"""
        -- report: the published segment profiles
        SELECT *
        FROM {context.Q(SegmentProfilesStage.Table)}
        ORDER BY segment
        """,
    ];

    private static string Name(IReadOnlyDictionary<string, object?> r) =>
        Convert.ToInt64(r["segment"], CultureInfo.InvariantCulture) == SegmentProfilesStage.Other ? "other" : Convert.ToString(r["segment"], CultureInfo.InvariantCulture)!;

    private static double? Number(object? value) => value is null ? null : Convert.ToDouble(value, CultureInfo.InvariantCulture);

    public string Render(StageContext context, RunSummary summary, IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<string, object?>>> results)
    {
        var rows = results[0];
        var sizes = Html.BarChart("Users per segment",
            rows.Select(r => ($"{Name(r)}: {r["label"]}", Convert.ToDouble(r["users"], CultureInfo.InvariantCulture))).ToList(),
            v => Html.Count((long)v, "user"));
        var table = Html.Table(["segment", "label", "users", "share of users", "events per user", "event mix", "top categories (lift)", "top items (lift)"],
            rows.Select(r => (IReadOnlyList<object?>)[Name(r), r["label"], r["users"], Html.Percent(Number(r["share"])), Html.OneDecimal(Number(r["events_per_user"])), r["event_mix"], r["top_categories"], r["top_items"]]));
        var profiles = context.Results.Find<ProfileFacts>();
        var suppressed = profiles?.SuppressedSegments ?? 0;
        var withheld = suppressed == 0 ? "" : Html.Paragraph(
            $"{suppressed} small segment(s) with {profiles!.SuppressedUsers} user(s) have fewer than {context.Settings.Privacy.KAnonymity} users; " +
            (profiles.OtherRow == "reported" ? "they are shown together as \"other\"." : "they are not shown, to protect those users' privacy."));
        var k = context.Results.Find<SegmentMetrics>()?.K ?? rows.Count(r => Convert.ToInt64(r["segment"], CultureInfo.InvariantCulture) != SegmentProfilesStage.Other);
        return Html.Section("segments", "Segments",
            $"Users are split into {k} segments of people who behave alike; pick one by its label, top categories and top items to build a campaign audience " +
            "(the segments table lists every user's segment). Lift ×2.0 means the segment engages with it twice as much as everyone does.",
            sizes + table + withheld + CategoryMix(context, rows));
    }

    /// <summary>Per segment, the average user's share of engagement in each category: the real category names, as percentages.</summary>
    private static string CategoryMix(StageContext context, IReadOnlyList<IReadOnlyDictionary<string, object?>> rows)
    {
        if (context.Results.Find<FeatureSpec>() is not { Categories.Count: > 0 } spec) return "";
        var columns = spec.Categories.Select((category, j) => (Category: category, Column: SegmentProfilesStage.MeanColumn(FeatureSpec.CategoryColumn(j))))
            .Where(x => rows.Count > 0 && rows[0].ContainsKey(x.Column)).ToList();
        if (columns.Count == 0) return "";
        return Html.Part("Category mix per segment",
            Html.Paragraph($"The average user's share of engagement in each of the {columns.Count} most engaged categories; compare a segment's column with the last one.") +
            Html.Table(["category", .. rows.Select(r => "segment " + Name(r)), "all users shown"],
                columns.Select(x => (IReadOnlyList<object?>)[x.Category, .. rows.Select(r => (object?)Html.Percent(Number(r[x.Column]))), Html.Percent(Everyone(rows, x.Column))])));
    }

    /// <summary>The mean over the users of the rows shown: the segments' means weighted by their sizes.</summary>
    private static double? Everyone(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, string column)
    {
        var known = rows.Where(r => r[column] is not null).ToList();
        var users = known.Sum(r => Convert.ToDouble(r["users"], CultureInfo.InvariantCulture));
        return users == 0 ? null : known.Sum(r => Number(r[column])!.Value * Convert.ToDouble(r["users"], CultureInfo.InvariantCulture)) / users;
    }

    private static string ByK(IReadOnlyDictionary<string, double>? values) =>
        values is null ? "" : string.Join(", ", values.Select(kv => $"{kv.Key}: {Html.Format(kv.Value)}"));

    public string Appendix(StageContext context, RunSummary summary, IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<string, object?>>> results)
    {
        var rows = results[0];
        var metrics = context.Results.Find<SegmentMetrics>();
        var model = metrics is null ? "" : Html.Paragraph(metrics.Model == "kmeans"
            ? $"k = {metrics.K} ({metrics.KChosenBy}), k-means fitted on {metrics.SampleUsers} sampled users and assigned to every user in the engine; " +
              $"inertia {Html.Format(metrics.Inertia)}; the engine's assignment agrees with ML.NET's on {Html.Percent(metrics.SqlVsDriverSampleAgreement)} of the sample. " +
              $"Silhouette by k: {ByK(metrics.SilhouetteByK)}."
            : $"k = {metrics.K} ({metrics.KChosenBy}), a mixture of multinomials over the categories and event types of users' events, fitted on {metrics.SampleUsers} sampled users " +
              $"and assigned to every user in the engine; log-likelihood {Html.Format(metrics.LogLikelihood)}; the engine's assignment agrees with the driver's on " +
              $"{Html.Percent(metrics.SqlVsDriverSampleAgreement)} of the sample. ICL by k (lower is better): {ByK(metrics.IclByK)}.");
        var means = "";
        if (context.Results.Find<FeatureSpec>() is { } spec && rows.Count > 0)
        {
            var present = spec.Columns.Where(f => rows[0].ContainsKey(SegmentProfilesStage.MeanColumn(f.Name))).ToList();
            means = Html.Paragraph("Mean of each user feature per segment. The published columns are named by slot; the first column says what each slot holds in this run.") +
                Html.Table(["feature", "published column", .. rows.Select(r => "segment " + Name(r))],
                    present.Select(f => (IReadOnlyList<object?>)[f.Meaning, SegmentProfilesStage.MeanColumn(f.Name), .. rows.Select(r => (object?)Number(r[SegmentProfilesStage.MeanColumn(f.Name)]))]));
        }
        return Html.Part("Segments: model and mean features", model + means);
    }
}
