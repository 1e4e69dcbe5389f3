using System.Globalization;
using SparkReco.Core.Stages;
using SparkReco.Jobs.Evaluation;
using SparkReco.Jobs.Running;

namespace SparkReco.Jobs.Reporting;

/// <summary>
/// report.html section for collaborative filtering: table sizes, similarity and neighbour facts, where the
/// recommendations came from, and the offline metrics per source as a table and bar charts.
/// </summary>
public sealed class RecommendationSection : IReportSection
{
    private static readonly string[] Tables = ["item_similarity", "user_neighbors", "recommendations"];
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

    public string Render(StageContext context, RunSummary summary, IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<string, object?>>> rows)
    {
        var s = context.Settings;
        var sizes = Html.Table(["table", "rows"], Tables.Where(summary.OutputRows.ContainsKey).Select(t => (IReadOnlyList<object?>)[t, summary.OutputRows[t]]));
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

        var body = "<h3>Tables</h3>" + sizes + "<h3>Settings</h3>" + settings + "<h3>Similarity and neighbour facts</h3>" + facts;
        var bySource = rows[0].Select(r => (Convert.ToString(r["source"], CultureInfo.InvariantCulture) ?? "", Convert.ToDouble(r["n"], CultureInfo.InvariantCulture))).ToList();
        body += "<h3>Recommendation rows by source</h3>" + Html.BarChart(bySource);
        body += Evaluation(context);
        return Html.Section("Collaborative filtering", body);
    }

    private static string Evaluation(StageContext context)
    {
        if (context.Results.Find<EvaluationMetrics>() is not { } evaluation) return "";
        var k = evaluation.K;
        var present = EvaluationStage.Sources.Where(evaluation.Sources.ContainsKey).ToList();
        double Figure(string source, Func<SourceMetrics, double?> column) => column(evaluation.Sources[source]) ?? 0;
        var table = Html.Table(["source", .. Columns.Select(c => c.Name.Replace("_at_k", $"@{k}", StringComparison.Ordinal))],
            present.Select(source => (IReadOnlyList<object?>)[source, .. Columns.Select(c => (object?)Figure(source, c.Value))]));
        var split = EvaluationSplit.Of(context).Description;
        var charts = string.Concat(Columns.Where(c => Charted.Contains(c.Name)).Select(column =>
            $"<h4>{Html.Encode(column.Name.Replace("_at_k", $"@{k}", StringComparison.Ordinal))}</h4>" +
            Html.BarChart(present.Select(source => (source, Figure(source, column.Value))).ToList())));
        var history = present.Count > 0 ? Figure(present[0], m => m.HistoryMeanPopularity) : 0;
        return "<h3>Offline evaluation</h3>" +
            $"<p>{Html.Encode(split)}; {Html.Encode(evaluation.TestUsers)} test users ({Html.Encode(evaluation.ColdTestUsers)} without training history, scored on the popularity back-fill), {Html.Encode(evaluation.RelevantPairs)} held-out items. " +
            "Means over test users; MAP divides by min(K, held-out items); coverage = distinct recommended items / train catalogue; " +
            $"popularity = train users per item (the test users' own train items: {Html.Encode(history)}).</p>" +
            table + charts +
            "<h4>mean popularity of recommended items</h4>" +
            Html.BarChart([.. present.Select(source => (source, Figure(source, m => m.MeanPopularity))), ("history", history)]);
    }
}
