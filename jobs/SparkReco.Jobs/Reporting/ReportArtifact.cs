using System.Text;
using SparkReco.Core.Engine;
using SparkReco.Core.Stages;
using SparkReco.Jobs.Running;

namespace SparkReco.Jobs.Reporting;

/// <summary>report.html: one self-contained page (inline CSS and SVG, no scripts, no network) for people.</summary>
public sealed class ReportArtifact(IReadOnlyList<IReportSection> sections) : IRunArtifact
{
    public const string ReportFileName = "report.html";
    public string FileName => ReportFileName;

    /// <summary>The sections a run with these settings writes, in page order.</summary>
    public static IEnumerable<IReportSection> Enabled(IEnumerable<IReportSection> sections, StageContext context) =>
        sections.Where(s => s.IsEnabled(context)).OrderBy(s => s.Order);

    public async Task WriteAsync(IEngine engine, StageContext context, RunSummary summary, string path, CancellationToken cancellationToken)
    {
        var body = new StringBuilder();
        foreach (var section in Enabled(sections, context))
        {
            var rows = new List<IReadOnlyList<IReadOnlyDictionary<string, object?>>>();
            foreach (var query in section.Queries(context)) rows.Add(await engine.QueryAsync(query, cancellationToken));
            body.Append(section.Render(context, summary, rows));
        }
        var page = $$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>SparkReco run {{Html.Encode(summary.RunId)}}</title>
            <style>
            body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 64rem; color: #1d2330; }
            h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; border-bottom: 1px solid #d8dce5; padding-bottom: .2rem; margin-top: 2rem; }
            table { border-collapse: collapse; margin: .5rem 0; } th, td { padding: .25rem .6rem; border-bottom: 1px solid #eceef3; text-align: left; }
            td.n { text-align: right; font-variant-numeric: tabular-nums; } th { background: #f4f5f8; }
            svg.chart text { font-size: 12px; fill: #1d2330; } svg.chart rect { fill: #4a72c4; }
            .meta { color: #5b6475; }
            </style></head><body>
            <h1>SparkReco run {{Html.Encode(summary.RunId)}}</h1>
            <p class="meta">as_of {{Html.Encode(summary.AsOf)}} · engine {{Html.Encode(summary.Engine)}} · started {{Html.Encode(summary.StartedAt)}}</p>
            {{body}}
            </body></html>
            """;
        await File.WriteAllTextAsync(path, page, cancellationToken);
    }
}
