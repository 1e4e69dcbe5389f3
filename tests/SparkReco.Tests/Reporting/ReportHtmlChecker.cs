using System.Xml;
using System.Xml.Linq;

namespace SparkReco.Tests.Reporting;

/// <summary>
/// A strict check of report.html: it must parse as XML (the report writes XHTML-compatible HTML, so any unclosed tag or
/// unescaped data breaks the parse), load nothing from outside the file, be laid out for phones, and give every chart a name
/// for screen readers. Returns what is wrong, empty when nothing is.
/// </summary>
public static class ReportHtmlChecker
{
    /// <summary>Attributes through which a page loads or links to another resource.</summary>
    private static readonly string[] ReferenceAttributes = ["src", "href", "srcset", "action", "poster", "data", "formaction"];

    /// <summary>Elements a self-contained report has no use for: each runs code or embeds another resource.</summary>
    private static readonly string[] ForbiddenElements = ["script", "link", "iframe", "object", "embed", "img", "video", "audio", "base"];

    public static IReadOnlyList<string> Problems(string html)
    {
        ArgumentNullException.ThrowIfNull(html);
        var problems = new List<string>();
        if (!html.StartsWith("<!DOCTYPE html>", StringComparison.Ordinal)) problems.Add("does not start with <!DOCTYPE html>");

        XDocument document;
        try
        {
            // The HTML5 doctype has no DTD to read; ignoring it leaves XML's own five entities, so &nbsp; and the like fail.
            using var reader = XmlReader.Create(new StringReader(html), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null });
            document = XDocument.Load(reader);
        }
        catch (XmlException e)
        {
            problems.Add($"not well-formed: {e.Message}");
            return problems;
        }

        var elements = document.Descendants().ToList();
        static string Name(XElement e) => e.Name.LocalName.ToLowerInvariant();

        if (document.Root is not { } root || Name(root) != "html") problems.Add("the root element is not <html>");
        var metas = elements.Where(e => Name(e) == "meta").ToList();
        if (!metas.Any(m => string.Equals((string?)m.Attribute("charset"), "utf-8", StringComparison.OrdinalIgnoreCase)))
            problems.Add("no <meta charset=\"utf-8\">");
        if (!metas.Any(m => (string?)m.Attribute("name") == "viewport" && ((string?)m.Attribute("content") ?? "").Contains("width=device-width", StringComparison.Ordinal)))
            problems.Add("no <meta name=\"viewport\" content=\"width=device-width, …\">");

        foreach (var element in elements.Where(e => ForbiddenElements.Contains(Name(e))))
            problems.Add($"<{Name(element)}> element (a self-contained report needs none)");
        foreach (var attribute in elements.SelectMany(e => e.Attributes()))
        {
            var name = attribute.Name.LocalName.ToLowerInvariant();
            if (name.StartsWith("on", StringComparison.Ordinal)) problems.Add($"event handler attribute {name}");
            // Only links within the page (#id) are allowed: anything else is fetched or opened from outside the file.
            if (ReferenceAttributes.Contains(name) && !attribute.Value.StartsWith('#'))
                problems.Add($"external reference {name}=\"{attribute.Value}\" on <{Name(attribute.Parent!)}>");
            if (name == "style" && LoadsFromOutside(attribute.Value)) problems.Add($"style attribute loads a resource: {attribute.Value}");
        }
        foreach (var style in elements.Where(e => Name(e) == "style"))
            if (LoadsFromOutside(style.Value)) problems.Add("a <style> element loads a resource (url( or @import)");

        var svgs = elements.Where(e => Name(e) == "svg").ToList();
        for (var i = 0; i < svgs.Count; i++)
        {
            var svg = svgs[i];
            if ((string?)svg.Attribute("role") != "img") problems.Add($"svg #{i + 1} has no role=\"img\"");
            if (string.IsNullOrWhiteSpace((string?)svg.Attribute("aria-label"))) problems.Add($"svg #{i + 1} has no aria-label");
            if (svg.Elements().FirstOrDefault(e => Name(e) == "title") is not { } title || string.IsNullOrWhiteSpace(title.Value))
                problems.Add($"svg #{i + 1} has no <title> as a child");
            if (svg.Attribute("viewBox") is null) problems.Add($"svg #{i + 1} has no viewBox, so it cannot scale");
            // A fixed pixel width is what broke the page on phones.
            if ((string?)svg.Attribute("width") is { } width && width != "100%") problems.Add($"svg #{i + 1} has a fixed width \"{width}\"");
        }
        return problems;
    }

    private static bool LoadsFromOutside(string css) =>
        css.Contains("url(", StringComparison.OrdinalIgnoreCase) || css.Contains("@import", StringComparison.OrdinalIgnoreCase);
}
