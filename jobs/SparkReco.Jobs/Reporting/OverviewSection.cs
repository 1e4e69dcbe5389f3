using System.Globalization;
using SparkReco.Core.Stages;
using SparkReco.Jobs.Running;
using SparkReco.Jobs.Stages;

namespace SparkReco.Jobs.Reporting;

/// <summary>What the run read, what cleaning removed and what it published; the stage timings go to the appendix.</summary>
public sealed class OverviewSection : IReportSection
{
    public int Order => 0;

    public string Render(StageContext context, RunSummary summary, IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<string, object?>>> rows)
    {
        var inputs = Html.Table(["input", "rows"], summary.InputRows.Select(kv => (IReadOnlyList<object?>)[kv.Key, kv.Value]));
        var dropped = context.Results.Find<CleaningFacts>() is { Dropped.Count: > 0 } cleaning
            ? Html.Table(["removed because", "rows"], cleaning.Dropped.Select(kv => (IReadOnlyList<object?>)[kv.Key.Replace('_', ' '), kv.Value]))
            : Html.Paragraph("No rows were removed.");
        var tables = Html.Table(["table", "rows"], summary.OutputRows.Select(kv => (IReadOnlyList<object?>)[kv.Key, kv.Value]));
        var events = summary.InputRows.TryGetValue("events", out var n) ? n.ToString("N0", CultureInfo.InvariantCulture) + " engagement events" : "the engagement events";
        return Html.Section("overview", "Data in, tables out",
            $"This run read {events} up to {Html.Format(summary.AsOf)} and published the tables below; check here that the input is the size you expect before using the results.",
            Html.Part("Input", inputs) + Html.Part("Removed before use (duplicates, bots, invalid rows)", dropped) + Html.Part("Published tables", tables));
    }

    public string Appendix(StageContext context, RunSummary summary, IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<string, object?>>> rows) =>
        Html.Part("Stage timings", Html.BarChart("Seconds per stage, in the order they ran",
            summary.Stages.Select(s => (s.Stage, s.Seconds)).ToList(), v => v.ToString("0.00", CultureInfo.InvariantCulture) + " s"));
}
