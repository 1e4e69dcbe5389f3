using System.Globalization;
using System.Net;
using System.Text;

namespace SparkReco.Jobs.Reporting;

/// <summary>Small, dependency-free HTML pieces for the self-contained report (no scripts, no network).</summary>
public static class Html
{
    public static string Encode(object? value) => WebUtility.HtmlEncode(Format(value));

    public static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString(Math.Abs(d) >= 1000 ? "N0" : "0.####", CultureInfo.InvariantCulture),
        float f => ((double)f).ToString("0.####", CultureInfo.InvariantCulture),
        long or int => string.Format(CultureInfo.InvariantCulture, "{0:N0}", value),
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    public static string Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<object?>> rows)
    {
        var html = new StringBuilder("<table><thead><tr>");
        foreach (var h in headers) html.Append("<th>").Append(Encode(h)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var row in rows)
        {
            html.Append("<tr>");
            foreach (var cell in row)
                html.Append(cell is double or long or int or float ? "<td class=\"n\">" : "<td>").Append(Encode(cell)).Append("</td>");
            html.Append("</tr>");
        }
        return html.Append("</tbody></table>").ToString();
    }

    /// <summary>A horizontal bar chart as inline SVG.</summary>
    public static string BarChart(IReadOnlyList<(string Label, double Value)> bars, string unit = "")
    {
        if (bars.Count == 0) return "";
        const int RowHeight = 22, LabelWidth = 180, BarWidth = 360;
        var max = Math.Max(bars.Max(b => b.Value), 1e-12);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"<svg class=\"chart\" width=\"{LabelWidth + BarWidth + 110}\" height=\"{bars.Count * RowHeight + 4}\" role=\"img\">");
        for (var i = 0; i < bars.Count; i++)
        {
            var (label, value) = bars[i];
            var y = i * RowHeight;
            var w = Math.Max(1, value / max * BarWidth);
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{LabelWidth - 6}\" y=\"{y + 15}\" text-anchor=\"end\">{Encode(label)}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{LabelWidth}\" y=\"{y + 3}\" width=\"{w:0.#}\" height=\"{RowHeight - 6}\"></rect>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{LabelWidth + w + 6:0.#}\" y=\"{y + 15}\">{Encode(value)}{Encode(unit)}</text>");
        }
        return svg.Append("</svg>").ToString();
    }

    public static string Section(string title, string body) => $"<section><h2>{Encode(title)}</h2>{body}</section>";
}
