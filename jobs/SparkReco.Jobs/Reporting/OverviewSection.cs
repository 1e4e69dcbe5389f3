using SparkReco.Core.Stages;
using SparkReco.Jobs.Running;
using SparkReco.Jobs.Stages;

namespace SparkReco.Jobs.Reporting;

/// <summary>Inputs, cleaning, stage timings and table sizes: what every run reports.</summary>
public sealed class OverviewSection : IReportSection
{
    public int Order => 0;

    public string Render(StageContext context, RunSummary summary, IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<string, object?>>> rows)
    {
        var inputs = Html.Table(["input", "rows"], summary.InputRows.Select(kv => (IReadOnlyList<object?>)[kv.Key, kv.Value]));
        var dropped = context.Results.Find<CleaningFacts>() is { Dropped.Count: > 0 } cleaning
            ? Html.Table(["dropped because", "rows"], cleaning.Dropped.Select(kv => (IReadOnlyList<object?>)[kv.Key.Replace('_', ' '), kv.Value]))
            : "<p>No rows dropped.</p>";
        var timings = Html.BarChart(summary.Stages.Select(s => (s.Stage, s.Seconds)).ToList(), " s");
        var tables = Html.Table(["table", "rows"], summary.OutputRows.Select(kv => (IReadOnlyList<object?>)[kv.Key, kv.Value]));
        return Html.Section("Input", inputs + "<h3>Cleaning</h3>" + dropped) +
            Html.Section("Stage timings", timings) +
            Html.Section("Output tables", tables);
    }
}
