using System.Globalization;
using SparkReco.Core.Stages;
using SparkReco.Jobs.Evaluation;
using SparkReco.Jobs.Running;

namespace SparkReco.Jobs.Reporting;

/// <summary>
/// report.html section for collaborative filtering: where the recommendations came from and the offline test in plain
/// words; settings, similarity and neighbour counters and the raw metric charts in the appendix.
/// </summary>
public sealed class RecommendationSection : IReportSection
{
    /// <summary>The metrics the report shows per source, by their metrics.json names.</summary>
    public static readonly (string Name, Func<SourceMetrics, double?> Value)[] Columns =
    [
        ("precision_at_k", m => m.PrecisionAtK),
        ("recall_at_k", m => m.RecallAtK),
        ("ndcg_at_k", m => m.NdcgAtK),
        ("map_at_k", m => m.MapAtK),
        ("hit_rate_at_k", m => m.HitRateAtK),
        ("coverage_at_k", m => m.CoverageAtK),
        ("mean_popularity", m => m.MeanPopularity),
    ];
    private static readonly string[] Charted = ["precision_at_k", "recall_at_k", "ndcg_at_k", "coverage_at_k"];

    public int Order => 20;

    public bool IsEnabled(StageContext context) => context.Settings.Recommend.Enabled;

    /// <summary>Recommendation rows per source (the recommendations table exists whenever the section is enabled).</summary>
    public IReadOnlyList<string> Queries(StageContext context) =>
    [
        $"""
        -- report: recommendation rows by source
        SELECT
            source,
            count(*) AS n
        FROM {context.Q("recommendations")}
        GROUP BY
            source
        ORDER BY
            source
        """,
    ];

    /// <summary>What each value of the recommendations table's <c>source</c> column means, in a marketer's words.</summary>
    private static string SourceName(string source) => source switch
    {
        "item" => "item (similar to what the user engaged with)",
        "user" => "user (liked by similar users)",
        "blend" => "blend (both)",
        "popular" => "popular (too little history: popular items)",
        _ => source,
    };

    public string Render(StageContext context, RunSummary summary, IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<string, object?>>> rows)
    {
        var bySource = rows[0].Select(r => (Source: Convert.ToString(r["source"], CultureInfo.InvariantCulture) ?? "", Rows: Convert.ToDouble(r["n"], CultureInfo.InvariantCulture))).ToList();
        var total = Math.Max(1, bySource.Sum(x => x.Rows));
        var body = Html.BarChart("Where the recommendations come from (rows per source)",
            bySource.Select(x => (SourceName(x.Source), x.Rows)).ToList(), v => $"{Html.Format((long)v)} ({Html.Percent(v / total)})");
        body += Evaluation(context);
        if (SparkReco.Jobs.Stages.Recommend.CfAffinityStage.StaleHistoryNote(context) is { } stale) body += Html.Paragraph("Note: " + stale);
        return Html.Section("recommendations", "Recommendations",
            $"Every user gets up to {context.Settings.Recommend.TopN} recommended items, each with a one-line reason, for feeds, e-mail and push; " +
            "this shows where they come from and, when the offline test ran, how often they matched what users engaged with next.",
            body);
    }

    public string Appendix(StageContext context, RunSummary summary, IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<string, object?>>> rows)
    {
        var s = context.Settings;
        var facts = Html.Table(["fact", "value"], context.Facts
            .Where(kv => kv.Key.StartsWith("item_similarity.", StringComparison.Ordinal) || kv.Key.StartsWith("user_neighbors.", StringComparison.Ordinal))
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (IReadOnlyList<object?>)[kv.Key, kv.Value]));
        var settings = Html.Table(["setting", "value"], new (string, object)[]
        {
            ("similarity measure", s.Similarity.Measure),
            ("items per user for co-occurrence (cap)", (long)s.Similarity.MaxItemsPerUser),
            ("minimum support", (long)s.Similarity.MinSupport),
            ("similar items per item", (long)s.Similarity.TopK),
            ("neighbours skip items with more users than", (long)s.Neighbors.MaxUsersPerItem),
            ("neighbours per user", (long)s.Neighbors.TopK),
            ("blend", $"{s.Recommend.ItemWeight.ToString(CultureInfo.InvariantCulture)}·item + {s.Recommend.UserWeight.ToString(CultureInfo.InvariantCulture)}·user (each divided by the user's maximum)"),
        }.Select(x => (IReadOnlyList<object?>)[x.Item1, x.Item2]));
        return Html.Part("Recommendations: settings", settings) + Html.Part("Recommendations: similarity and neighbour counters", facts) + EvaluationDetails(context);
    }

    /// <summary>The offline test in plain words: the hit rate of what users get against the most popular items, then every measure per source.</summary>
    private static string Evaluation(StageContext context)
    {
        if (context.Results.Find<EvaluationMetrics>() is not { } evaluation) return "";
        var k = evaluation.K;
        var present = EvaluationStage.Sources.Where(evaluation.Sources.ContainsKey).ToList();
        double? HitRate(string source) => evaluation.Sources.TryGetValue(source, out var m) ? m.HitRateAtK : null;
        var served = present.Contains("blend") ? "blend" : present.FirstOrDefault(source => source != "popular");
        var headline = served is null ? "" :
            $"<p class=\"headline\">{Html.Encode(Html.Percent(HitRate(served)))} of test users engaged with at least one of their {Html.Encode(k)} recommendations " +
            $"({Html.Encode(served)}), against {Html.Encode(Html.Percent(HitRate("popular")))} for the {Html.Encode(k)} most popular items.</p>";
        var split = EvaluationSplit.Of(context).Description;
        var table = Html.Table(["source", .. Columns.Select(c => Header(c.Name, k))],
            present.Select(source => (IReadOnlyList<object?>)[source, .. Columns.Select(c => (object?)Cell(c.Name, c.Value(evaluation.Sources[source])))]));
        return Html.Part("How well they work (offline test)",
            headline +
            Html.Paragraph($"Measured by hiding recent engagement ({split}) and checking the recommendations made without it, " +
                $"for {Html.Format(evaluation.TestUsers)} test users. Hit rate: share of users with at least one hit in the top {k}; " +
                $"precision: share of the {k} recommendations that were hits; recall: share of the hidden items found; coverage: share of the catalogue recommended to anyone.") +
            Html.BarChart($"Hit rate@{k} by source", present.Select(source => (SourceName(source), HitRate(source) ?? 0)).ToList(), v => Html.Percent(v).Text) +
            table);
    }

    private static string Header(string name, long k) => name.Replace("_at_k", $"@{k}", StringComparison.Ordinal).Replace('_', ' ');

    /// <summary>Shares as percentages; mean popularity (users per item) stays a count.</summary>
    private static Html.Figure Cell(string name, double? value) => name == "mean_popularity" ? Html.OneDecimal(value) : Html.Percent(value);

    private static string EvaluationDetails(StageContext context)
    {
        if (context.Results.Find<EvaluationMetrics>() is not { } evaluation) return "";
        var k = evaluation.K;
        var present = EvaluationStage.Sources.Where(evaluation.Sources.ContainsKey).ToList();
        double Figure(string source, Func<SourceMetrics, double?> column) => column(evaluation.Sources[source]) ?? 0;
        var charts = string.Concat(Columns.Where(c => Charted.Contains(c.Name)).Select(column =>
            Html.BarChart($"{Header(column.Name, k)} by source", present.Select(source => (source, Figure(source, column.Value))).ToList(), v => v.ToString("0.0000", CultureInfo.InvariantCulture))));
        var history = present.Count > 0 ? Figure(present[0], m => m.HistoryMeanPopularity) : 0;
        return Html.Part("Offline evaluation: raw figures",
            Html.Paragraph($"{evaluation.TestUsers} test users ({evaluation.ColdTestUsers} without training history, scored on the popularity back-fill), {evaluation.RelevantPairs} held-out items. Means over test users; MAP divides by min(K, held-out items); " +
                $"coverage = distinct recommended items / train catalogue; popularity = train users per item (the test users' own train items: {Html.Format(history)}).") +
            charts +
            Html.BarChart("mean popularity of recommended items (train users per item)",
                [.. present.Select(source => (source, Figure(source, m => m.MeanPopularity))), ("history", history)]));
    }
}
