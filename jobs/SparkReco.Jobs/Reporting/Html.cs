using System.Globalization;
using System.Net;
using System.Text;

namespace SparkReco.Jobs.Reporting;

/// <summary>
/// Small, dependency-free HTML pieces for the self-contained report (no scripts, no network). What they write is also
/// well-formed XML (void elements self-closed, only XML's character references), so a strict parser can check the page.
/// </summary>
public static class Html
{
    /// <summary>A figure already formatted for people (a percentage, a lift): right-aligned in a table like a number.</summary>
    public readonly record struct Figure(string Text)
    {
        public override string ToString() => Text;
    }

    /// <summary>Tables with more columns than this get the class "wide".</summary>
    private const int WideColumns = 4;

    public static string Encode(object? value) => WebUtility.HtmlEncode(Format(value));

    public static string Format(object? value) => value switch
    {
        null => "",
        Figure f => f.Text,
        double d => d.ToString(Math.Abs(d) >= 1000 ? "N0" : "0.####", CultureInfo.InvariantCulture),
        float f => ((double)f).ToString("0.####", CultureInfo.InvariantCulture),
        long or int => string.Format(CultureInfo.InvariantCulture, "{0:N0}", value),
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>A share (0.4213) as a percentage ("42%"); one decimal below 10 % so small shares do not all read "0%"; "–" when unknown.</summary>
    public static Figure Percent(double? share) => new(share is { } s && double.IsFinite(s)
        ? (100 * s).ToString(Math.Abs(s) < 0.1 ? "0.0" : "0", CultureInfo.InvariantCulture) + "%"
        : "–");

    /// <summary>A measure people read at a glance (events per user, users per item) with one decimal; "–" when unknown.</summary>
    public static Figure OneDecimal(double? value) => new(value is { } v && double.IsFinite(v) ? v.ToString("#,##0.0", CultureInfo.InvariantCulture) : "–");

    /// <summary>A count with its noun, singular for one ("1 user", "2,000 users").</summary>
    public static string Count(long n, string noun) => n == 1 ? $"1 {noun}" : $"{Format(n)} {noun}s";

    /// <summary>A ratio against a baseline (2.4 → "2.4×"); "–" when unknown.</summary>
    public static Figure Times(double? ratio) => new(ratio is { } r && double.IsFinite(r) ? r.ToString("0.0", CultureInfo.InvariantCulture) + "×" : "–");

    public static string Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<object?>> rows)
    {
        ArgumentNullException.ThrowIfNull(headers);
        // Tables scroll sideways inside their own box instead of widening the page on a phone; one with many columns keeps a
        // minimum width there (class wide), or its text columns would be squeezed to a word per line.
        var html = new StringBuilder(headers.Count > WideColumns ? "<div class=\"scroll\"><table class=\"wide\"><thead><tr>" : "<div class=\"scroll\"><table><thead><tr>");
        foreach (var h in headers) html.Append("<th>").Append(Encode(h)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var row in rows)
        {
            html.Append("<tr>");
            foreach (var cell in row)
                html.Append(cell is double or long or int or float or Figure ? "<td class=\"n\">" : "<td>").Append(Encode(cell)).Append("</td>");
            html.Append("</tr>");
        }
        return html.Append("</tbody></table></div>").ToString();
    }

    /// <summary>
    /// A titled horizontal bar chart as inline SVG that scales to its container (viewBox, width 100 %). Each label sits on
    /// its own line above its bar, so long labels (segment names) get the full width instead of a clipped column; a label
    /// longer than that is shortened with "…" and keeps its full text as a tooltip. Screen readers get the title as the
    /// chart's name and every bar's label and value as its description. <paramref name="reference"/> draws a dashed line
    /// at a value that gives the bars meaning (e.g. lift 1 = average).
    /// </summary>
    public static string BarChart(string title, IReadOnlyList<(string Label, double Value)> bars, Func<double, string>? format = null,
        (double Value, string Label)? reference = null)
    {
        ArgumentNullException.ThrowIfNull(bars);
        if (bars.Count == 0) return "";
        format ??= v => Format(v);
        // User units; the CSS sets 14-unit text, so a label line holds about LabelChars characters.
        const int Width = 400, ValueWidth = 96, RowHeight = 38, LabelChars = 52;
        const double BarSpace = Width - ValueWidth;
        var max = Math.Max(Math.Max(bars.Max(b => b.Value), reference?.Value ?? 0), 1e-12);
        var height = bars.Count * RowHeight + (reference is null ? 2 : 18);
        var description = string.Join("; ", bars.Select(b => $"{b.Label}: {format(b.Value)}"));
        var svg = new StringBuilder();
        svg.Append("<figure class=\"chart\"><figcaption>").Append(Encode(title)).Append("</figcaption>");
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" viewBox=\"0 0 {Width} {height}\" width=\"100%\" role=\"img\" aria-label=\"{Encode(title)}\">");
        svg.Append("<title>").Append(Encode(title)).Append("</title><desc>").Append(Encode(description)).Append("</desc>");
        for (var i = 0; i < bars.Count; i++)
        {
            var (label, value) = bars[i];
            var y = i * RowHeight;
            var w = Math.Max(1, Math.Max(0, value) / max * BarSpace);
            var shown = label.Length <= LabelChars ? Encode(label) : $"<title>{Encode(label)}</title>{Encode(label[..(LabelChars - 1)])}…";
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"0\" y=\"{y + 14}\">{shown}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"0\" y=\"{y + 19}\" width=\"{w:0.#}\" height=\"14\"></rect>");
            // A value whose bar stops short of the reference mark is written after the mark, not across it.
            var valueX = reference is { } after ? Math.Max(w, after.Value / max * BarSpace) : w;
            svg.Append(CultureInfo.InvariantCulture, $"<text class=\"v\" x=\"{valueX + 5:0.#}\" y=\"{y + 31}\">{Encode(format(value))}</text>");
            // The reference mark runs beside the bars only, so it never crosses a label.
            if (reference is { } mark)
            {
                var x = mark.Value / max * BarSpace;
                svg.Append(CultureInfo.InvariantCulture, $"<line class=\"ref\" x1=\"{x:0.#}\" y1=\"{y + 17}\" x2=\"{x:0.#}\" y2=\"{y + 35}\"></line>");
            }
        }
        if (reference is { } line)
        {
            var x = line.Value / max * BarSpace;
            // The caption is centred on the line but kept inside the chart when the line is near an edge.
            svg.Append(CultureInfo.InvariantCulture, $"<text class=\"ref\" x=\"{Math.Clamp(x, 48, Width - 48):0.#}\" y=\"{height - 2}\" text-anchor=\"middle\">{Encode(line.Label)}</text>");
        }
        return svg.Append("</svg></figure>").ToString();
    }

    /// <summary>A report section: an id to link to, a heading, and the one plain sentence that says what it shows and how to use it.</summary>
    public static string Section(string id, string title, string lead, string body) =>
        $"<section id=\"{Encode(id)}\"><h2>{Encode(title)}</h2><p class=\"lead\">{Encode(lead)}</p>{body}</section>";

    /// <summary>A sub-heading and its content inside a section.</summary>
    public static string Part(string title, string body) => $"<h3>{Encode(title)}</h3>{body}";

    public static string Paragraph(string text) => $"<p>{Encode(text)}</p>";
}
