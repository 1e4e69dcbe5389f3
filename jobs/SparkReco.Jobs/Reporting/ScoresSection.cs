using System.Globalization;
using SparkReco.Core.Stages;
using SparkReco.Jobs.Running;
using SparkReco.Jobs.Stages.Modelling;

namespace SparkReco.Jobs.Reporting;

/// <summary>Propensity model quality against baselines, and the distribution of the scores.</summary>
public sealed class ScoresSection : IReportSection
{
    public int Order => 50;

    public bool IsEnabled(StageContext context) => context.Settings.Scores.Enabled && context.HasItems;

    public IReadOnlyList<string> Queries(StageContext context)
    {
        var d = context.Dialect;
        return
        [
            $"""
            -- report: users per most likely class
            SELECT
                class,
                count(*) AS users,
                avg(probability) AS mean_probability
            FROM {d.Quote(UserScoresStage.Table)}
            WHERE {d.Quote("rank")} = 1
            GROUP BY class
            ORDER BY users DESC, class
            """,
            $"""
            -- report: histogram of the top class's probability
            SELECT
                CAST(floor(probability * {d.Literal(10.0)}) AS BIGINT) AS bin,
                count(*) AS users
            FROM {d.Quote(UserScoresStage.Table)}
            WHERE {d.Quote("rank")} = 1
            GROUP BY CAST(floor(probability * {d.Literal(10.0)}) AS BIGINT)
            ORDER BY bin
            """,
        ];
    }

    public string Render(StageContext context, RunSummary summary, IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<string, object?>>> rows)
    {
        if (context.Results.Find<PropensityMetrics>() is not { } metrics) return Html.Section("Propensity scores", "<p>Not fitted: the stage did not run.</p>");
        if (metrics.Skipped is { } skipped) return Html.Section("Propensity scores", $"<p>Not fitted: {Html.Encode(skipped)}.</p>");

        var quality = Html.Table(["model", "hold-out log-loss", "hold-out accuracy"],
        [
            ["softmax (ML.NET, scored in SQL)", metrics.HoldoutLogLoss, metrics.HoldoutAccuracy],
            [$"majority class ({metrics.BaselineMajorityClass})", metrics.BaselineMajorityLogLoss, metrics.BaselineMajorityAccuracy],
            ["prior distribution", metrics.BaselinePriorLogLoss, metrics.BaselinePriorAccuracy],
        ]);
        var (top, bins) = (rows[0], rows[1]);
        var byClass = Html.BarChart(top.Select(r => (Convert.ToString(r["class"], CultureInfo.InvariantCulture)!, Convert.ToDouble(r["users"], CultureInfo.InvariantCulture))).ToList(), " users");
        var histogram = Html.BarChart(bins.Select(r =>
        {
            var bin = Math.Min(9, Convert.ToInt64(r["bin"], CultureInfo.InvariantCulture));
            return ($"{(bin / 10.0).ToString("0.0", CultureInfo.InvariantCulture)}–{((bin + 1) / 10.0).ToString("0.0", CultureInfo.InvariantCulture)}", Convert.ToDouble(r["users"], CultureInfo.InvariantCulture));
        }).ToList(), " users");
        var note = $"<p class=\"meta\">Target {Html.Encode(metrics.Target)}: learned with features at {Html.Encode(metrics.Cutoff)} and the first engagement after it; " +
            $"{Html.Encode(metrics.TrainUsers)} training and {Html.Encode(metrics.HoldoutUsers)} hold-out users.</p>";
        return Html.Section("Propensity scores", note + quality + "<h3>Most likely class per user</h3>" + byClass + "<h3>Top-class probability</h3>" + histogram);
    }
}
