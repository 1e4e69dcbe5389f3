using System.Globalization;
using SparkReco.Core.Engine;
using SparkReco.Core.Stages;
using SparkReco.Jobs.Running;
using SparkReco.Jobs.Stages.Modelling;

namespace SparkReco.Jobs.Reporting;

/// <summary>Propensity model quality against baselines, and the distribution of the scores.</summary>
public sealed class ScoresSection : IReportSection
{
    public int Order => 50;

    public bool IsEnabled(StageContext context) => context.Settings.Scores.Enabled && context.HasItems;

    public async Task<string> RenderAsync(IEngine engine, StageContext context, RunSummary summary, CancellationToken cancellationToken)
    {
        var d = engine.Dialect;
        var metrics = context.Metrics.TryGetValue("propensity", out var m) && m is IDictionary<string, object> dict ? dict : new Dictionary<string, object>();
        object? Get(string key) => metrics.TryGetValue(key, out var v) ? v : null;
        if (Get("skipped") is { } skipped) return Html.Section("Propensity scores", $"<p>Not fitted: {Html.Encode(skipped)}.</p>");

        var quality = Html.Table(["model", "hold-out log-loss", "hold-out accuracy"],
        [
            ["softmax (ML.NET, scored in SQL)", Get("holdout_log_loss"), Get("holdout_accuracy")],
            [$"majority class ({Get("baseline_majority_class")})", Get("baseline_majority_log_loss"), Get("baseline_majority_accuracy")],
            ["prior distribution", Get("baseline_prior_log_loss"), Get("baseline_prior_accuracy")],
        ]);
        var top = await engine.QueryAsync(
            $"""
            SELECT
                class,
                count(*) AS users,
                avg(probability) AS mean_probability
            FROM {d.Quote(UserScoresStage.Table)}
            WHERE {d.Quote("rank")} = 1
            GROUP BY class
            ORDER BY users DESC, class
            """, cancellationToken);
        var bins = await engine.QueryAsync(
            $"""
            SELECT
                CAST(floor(probability * {d.Literal(10.0)}) AS BIGINT) AS bin,
                count(*) AS users
            FROM {d.Quote(UserScoresStage.Table)}
            WHERE {d.Quote("rank")} = 1
            GROUP BY CAST(floor(probability * {d.Literal(10.0)}) AS BIGINT)
            ORDER BY bin
            """, cancellationToken);
        var byClass = Html.BarChart(top.Select(r => (Convert.ToString(r["class"], CultureInfo.InvariantCulture)!, Convert.ToDouble(r["users"], CultureInfo.InvariantCulture))).ToList(), " users");
        var histogram = Html.BarChart(bins.Select(r =>
        {
            var bin = Math.Min(9, Convert.ToInt64(r["bin"], CultureInfo.InvariantCulture));
            return ($"{(bin / 10.0).ToString("0.0", CultureInfo.InvariantCulture)}–{((bin + 1) / 10.0).ToString("0.0", CultureInfo.InvariantCulture)}", Convert.ToDouble(r["users"], CultureInfo.InvariantCulture));
        }).ToList(), " users");
        var note = $"<p class=\"meta\">Target {Html.Encode(Get("target"))}: learned with features at {Html.Encode(Get("cutoff"))} and the first engagement after it; " +
            $"{Html.Encode(Get("train_users"))} training and {Html.Encode(Get("holdout_users"))} hold-out users.</p>";
        return Html.Section("Propensity scores", note + quality + "<h3>Most likely class per user</h3>" + byClass + "<h3>Top-class probability</h3>" + histogram);
    }
}
