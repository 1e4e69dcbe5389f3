using System.Globalization;
using SparkReco.Core.Stages;
using SparkReco.Jobs.Running;
using SparkReco.Jobs.Stages.Modelling;

namespace SparkReco.Jobs.Reporting;

/// <summary>
/// Propensity scores for a marketer: what they are, how often the most likely category is right against guessing, the lift of
/// the top-scored users per category (on the hold-out), and the distribution of the scores; log-loss and the model's
/// bookkeeping in the appendix.
/// </summary>
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

    private const string Title = "Propensity scores";
    private const string Lead =
        "For every user and item category, the score is the chance that the user's next engagement is in that category; " +
        "to target a campaign about a category, take the users with the highest score for it.";

    public string Render(StageContext context, RunSummary summary, IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<string, object?>>> rows)
    {
        if (context.Results.Find<PropensityMetrics>() is not { } metrics) return Html.Section("scores", Title, Lead, Html.Paragraph("Not fitted: the stage did not run."));
        if (metrics.Skipped is { } skipped) return Html.Section("scores", Title, Lead, Html.Paragraph($"Not fitted: {skipped}."));

        var horizon = context.Settings.Scores.HorizonDays;
        var accuracy = metrics.Holdout is { } noHoldout
            ? Html.Paragraph($"Accuracy not measured: {noHoldout}.")
            : $"<p class=\"headline\">The most likely category was right for {Html.Encode(Html.Percent(metrics.HoldoutAccuracy))} of users the model had not seen, " +
              $"against {Html.Encode(Html.Percent(metrics.BaselineMajorityAccuracy))} by guessing the most common category ({Html.Encode(metrics.BaselineMajorityClass)}).</p>";
        var (top, bins) = (rows[0], rows[1]);
        var byClass = Html.BarChart("Users by their most likely next category",
            top.Select(r => (Convert.ToString(r["class"], CultureInfo.InvariantCulture)!, Convert.ToDouble(r["users"], CultureInfo.InvariantCulture))).ToList(),
            v => Html.Count((long)v, "user"));
        var histogram = Html.BarChart("Users by the score of their most likely category",
            bins.Select(r =>
            {
                var bin = Math.Min(9, Convert.ToInt64(r["bin"], CultureInfo.InvariantCulture));
                return ($"{bin * 10}–{(bin + 1) * 10}%", Convert.ToDouble(r["users"], CultureInfo.InvariantCulture));
            }).ToList(),
            v => Html.Count((long)v, "user"));
        return Html.Section("scores", Title, Lead,
            accuracy + Lift(metrics, horizon) +
            Html.Part("Who is likely to engage with what", byClass +
                Html.Paragraph("How sure the model is: a user whose top score is 80–90% is a much safer pick for that category than one at 20–30%.") + histogram));
    }

    /// <summary>The lift of the top 10 % per category, and every decile's lift as a table, on the hold-out.</summary>
    private static string Lift(PropensityMetrics metrics, int horizon)
    {
        if (metrics.LiftByDecile is not { Count: > 0 } lifts) return "";
        var measured = lifts.Where(l => l.Deciles.Count == 10).ToList();
        var chart = Html.BarChart("How much more likely the top 10% are to engage with each category than the average user",
            measured.Select(l => (l.Class, l.Deciles[0].Lift)).ToList(), v => Html.Times(v).Text, (1, "average (1×)"));
        var table = Html.Table(["category", "engaged", "rate", .. Enumerable.Range(1, 10).Select(d => d == 1 ? "top 10%" : $"{d * 10 - 10}–{d * 10}%")],
            lifts.Select(l => (IReadOnlyList<object?>)
            [
                l.Class,
                (long)l.Engaged,
                Html.Percent((double)l.Engaged / Math.Max(1, metrics.HoldoutUsers)),
                .. Enumerable.Range(0, 10).Select(d => (object?)(l.Deciles.Count == 10 ? Html.Times(l.Deciles[d].Lift) : Html.Times(null))),
            ]));
        return Html.Part("Lift: is targeting the top-scored users worth it?",
            Html.Paragraph(
                $"Measured on the {metrics.HoldoutUsers} hold-out users, whom the model did not learn from: scored from their behaviour up to {Html.Format(metrics.Cutoff)}, " +
                $"then checked against the category of their first engagement in the {horizon} days after. For each category they are ranked by score and cut into ten equal groups; " +
                "lift = the group's engagement rate with the category ÷ the rate of all of them, so 3.0× means three times as likely as average and 1.0× no better than picking at random. " +
                $"Each group holds about {Math.Max(1, metrics.HoldoutUsers / 10)} users, so small differences are noise.") +
            chart + table);
    }

    public string Appendix(StageContext context, RunSummary summary, IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<string, object?>>> rows)
    {
        if (context.Results.Find<PropensityMetrics>() is not { Skipped: null } metrics) return "";
        var quality = Html.Table(["model", "hold-out log-loss", "hold-out accuracy"],
        [
            ["softmax (ML.NET, scored in SQL)", metrics.HoldoutLogLoss, metrics.HoldoutAccuracy],
            [$"majority class ({metrics.BaselineMajorityClass})", metrics.BaselineMajorityLogLoss, metrics.BaselineMajorityAccuracy],
            ["prior distribution", metrics.BaselinePriorLogLoss, metrics.BaselinePriorAccuracy],
        ]);
        return Html.Part("Propensity model: raw figures",
            Html.Paragraph($"Target {metrics.Target}: learned with features at {Html.Format(metrics.Cutoff)} and the first engagement after it; " +
                $"{metrics.LabelledUsers} labelled users, a sample of {metrics.SampleUsers}: {metrics.TrainUsers} training and {metrics.HoldoutUsers} hold-out users. " +
                $"Log-loss clips probabilities at {metrics.LogLossClip?.ToString("0e0", CultureInfo.InvariantCulture)}, so the majority baseline, which gives every other category 0, scores very badly on it. " +
                $"Largest difference between the engine's and ML.NET's probabilities on the self-check users: {metrics.SqlVsMlnetMaxAbsDiff?.ToString("0.###e0", CultureInfo.InvariantCulture)}.") +
            quality);
    }
}
