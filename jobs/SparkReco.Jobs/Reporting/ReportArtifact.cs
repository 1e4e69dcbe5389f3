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
        var appendix = new StringBuilder();
        foreach (var section in Enabled(sections, context))
        {
            var rows = new List<IReadOnlyList<IReadOnlyDictionary<string, object?>>>();
            foreach (var query in section.Queries(context)) rows.Add(await engine.QueryAsync(query, cancellationToken));
            body.Append(section.Render(context, summary, rows));
            appendix.Append(section.Appendix(context, summary, rows));
        }
        await File.WriteAllTextAsync(path, Page(summary, body.ToString(), appendix.ToString()), cancellationToken);
    }

    /// <summary>
    /// The page around the sections. XHTML-compatible (void elements self-closed) so it parses as XML as well as HTML; the
    /// viewport setting makes phones lay it out at their own width instead of a zoomed-out desktop page.
    /// </summary>
    public static string Page(RunSummary summary, string body, string appendix)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var appendixSection = appendix.Length == 0 ? "" :
            "<section id=\"appendix\" class=\"appendix\"><h2>Appendix (for developers)</h2>" +
            "<p class=\"lead\">Figures for the people who run and tune the job: timings, internal counters, settings and the models' raw measures.</p>" +
            appendix + "</section>";
        return $$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <title>SparkReco run {{Html.Encode(summary.RunId)}}</title>
            <style>
            body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; padding: 0 1.5rem; max-width: 60rem; color: #1d2330; }
            h1 { font-size: 1.5rem; margin-bottom: .2rem; }
            h2 { font-size: 1.2rem; border-bottom: 1px solid #d8dce5; padding-bottom: .2rem; margin-top: 2.2rem; }
            h3 { font-size: 1rem; margin: 1.4rem 0 .4rem; }
            p.lead { font-size: 1.05rem; margin: .4rem 0 1rem; }
            .scroll { overflow-x: auto; max-width: 100%; }
            table { border-collapse: collapse; margin: .5rem 0; }
            table.wide { min-width: 52rem; }
            th, td { padding: .25rem .6rem; border-bottom: 1px solid #eceef3; text-align: left; vertical-align: top; }
            td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
            th { background: #f4f5f8; }
            figure.chart { margin: .8rem 0 1.2rem; max-width: 32rem; }
            figure.chart figcaption { font-weight: 600; margin-bottom: .3rem; }
            svg.chart { display: block; width: 100%; height: auto; }
            svg.chart text { font-size: 14px; fill: #1d2330; }
            svg.chart text.v, svg.chart text.ref { fill: #5b6475; }
            svg.chart rect { fill: #4a72c4; }
            svg.chart line.ref { stroke: #c2410c; stroke-width: 1.5; stroke-dasharray: 4 3; }
            .meta { color: #5b6475; }
            .headline { font-size: 1.1rem; background: #f4f5f8; border-left: 4px solid #4a72c4; padding: .5rem .8rem; }
            section.appendix { margin-top: 3rem; color: #39414f; }
            @media (max-width: 40rem) {
              body { margin: 1rem auto; padding: 0 .8rem; font-size: 14px; }
              th, td { padding: .2rem .4rem; }
            }
            </style></head><body>
            <h1>SparkReco run {{Html.Encode(summary.RunId)}}</h1>
            <p class="meta">Data up to {{Html.Encode(summary.AsOf)}} · engine {{Html.Encode(summary.Engine)}} · started {{Html.Encode(summary.StartedAt)}}{{(appendixSection.Length == 0 ? "" : " · <a href=\"#appendix\">appendix for developers</a>")}}</p>
            {{body}}
            {{appendixSection}}
            </body></html>
            """;
    }
}
