using System.Xml;
using System.Xml.Linq;
using SparkReco.Core.Errors;
using SparkReco.Jobs.Reporting;
using SparkReco.Tests.Support;

namespace SparkReco.Tests.Reporting;

[Collection(CliCollection.Name)]
public sealed class ReportHtmlTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private const string GoodPage = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8" /><meta name="viewport" content="width=device-width, initial-scale=1" /><title>t</title>
        <style>body { color: #000; }</style></head><body><a href="#s">s</a>
        <section id="s"><svg viewBox="0 0 10 10" width="100%" role="img" aria-label="Chart"><title>Chart</title><rect width="1" height="1"></rect></svg></section>
        </body></html>
        """;

    [Fact]
    public void Checker_passes_a_good_page()
    {
        Assert.Empty(ReportHtmlChecker.Problems(GoodPage));
    }

    [Theory]
    [InlineData("<meta charset=\"utf-8\" />", "<meta charset=\"utf-8\">", "not well-formed")]
    [InlineData("<title>t</title>", "<title>a & b</title>", "not well-formed")]
    [InlineData("<title>t</title>", "<title>&nbsp;</title>", "not well-formed")]
    [InlineData("<a href=\"#s\">s</a>", "<a href=\"#s\">s</b>", "not well-formed")]
    [InlineData("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />", "", "viewport")]
    [InlineData("<a href=\"#s\">s</a>", "<a href=\"https://example.org/\">s</a>", "external reference href")]
    [InlineData("<a href=\"#s\">s</a>", "<a href=\"report.css\">s</a>", "external reference href")]
    [InlineData("<title>t</title>", "<title>t</title><script src=\"#x\"></script>", "<script> element")]
    [InlineData("<title>t</title>", "<title>t</title><link rel=\"stylesheet\" href=\"#x\" />", "<link> element")]
    [InlineData("color: #000;", "font-family: x; src: url(https://fonts.example/x.woff2);", "<style> element loads")]
    [InlineData("color: #000;", "@import 'x.css';", "<style> element loads")]
    [InlineData("<title>Chart</title>", "", "has no <title>")]
    [InlineData(" aria-label=\"Chart\"", "", "has no aria-label")]
    [InlineData(" role=\"img\"", "", "role=\"img\"")]
    [InlineData("width=\"100%\"", "width=\"640\"", "fixed width")]
    [InlineData(" viewBox=\"0 0 10 10\"", "", "no viewBox")]
    [InlineData("<rect width=\"1\"", "<rect onclick=\"x()\" width=\"1\"", "event handler")]
    public void Checker_finds_each_defect(string good, string bad, string expected)
    {
        Assert.Contains(good, GoodPage, StringComparison.Ordinal);
        var problems = ReportHtmlChecker.Problems(GoodPage.Replace(good, bad, StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Charts_escape_their_labels_and_shorten_long_ones_with_the_full_text_as_a_tooltip()
    {
        var hostile = "<b onclick=\"x()\">Tom & \"Jerry\"</b> " + new string('x', 80);
        var chart = Html.BarChart("Title <i>&</i>", [(hostile, 3), ("short", 1)]);
        var svg = XElement.Parse(chart).Elements().Single(e => e.Name.LocalName == "svg");
        Assert.DoesNotContain(svg.Descendants(), e => e.Name.LocalName is "b" or "i");
        Assert.Equal("Title <i>&</i>", svg.Attribute("aria-label")!.Value);
        Assert.Equal("Title <i>&</i>", svg.Elements().First(e => e.Name.LocalName == "title").Value);
        var label = svg.Elements().Where(e => e.Name.LocalName == "text").First();
        Assert.Equal(hostile, label.Elements().Single(e => e.Name.LocalName == "title").Value);
        Assert.EndsWith("…", label.Nodes().OfType<XText>().Single().Value, StringComparison.Ordinal);
        Assert.Contains("short: 1", svg.Elements().Single(e => e.Name.LocalName == "desc").Value, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_of_a_whole_run_is_well_formed_self_contained_and_names_categories_not_slots()
    {
        // Ids and categories carrying markup must reach the page as text. Category "a" is community 0's, so it shows in
        // labels, top categories, the category mix and the propensity classes.
        const string Category = "<b>cat \"a\" & 'b'</b>";
        // Every item of category "a" gets a hostile id, so one is among segment 0's top items.
        static string? Hostile(string? item) => item is not null && item.StartsWith("item_00_", StringComparison.Ordinal) ? $"<i>item&{item}</i>" : item;
        var planted = PlantedCommunities.Generate([40, 40, 40], ownShare: 0.9, seed: 5);
        var data = new PlantedCommunities
        {
            Events = planted.Events.Select(e => e with { Item = Hostile(e.Item) }).ToList(),
            Items = planted.Items.Select(i => (Hostile(i.Item)!, i.Category == "category_a" ? Category : i.Category, i.Creator)).ToList(),
            Follows = planted.Follows,
            Community = planted.Community,
        };
        await data.WriteAsync(_dir.Path);
        var result = await CliRunner.RunAsync("run", "--events", _dir.Combine("events.parquet"), "--items", _dir.Combine("items.parquet"),
            "--follows", _dir.Combine("follows.parquet"), "--output", _dir.Combine("out"), "--as-of", "2026-11-01T00:00:00Z",
            "--set", "Evaluation:Mode=random", "--set", "Segments:K=3", "--set", "Privacy:KAnonymity=5");
        Assert.True(result.ExitCode == ExitCodes.Success, result.Error);

        var html = await File.ReadAllTextAsync(_dir.Combine("out", "report.html"));
        var problems = ReportHtmlChecker.Problems(html);
        Assert.True(problems.Count == 0, string.Join("\n", problems));

        using var reader = XmlReader.Create(new StringReader(html), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null });
        var page = XDocument.Load(reader);
        Assert.DoesNotContain(page.Descendants(), e => e.Name.LocalName is "b" or "i");
        var text = page.Root!.Value;
        Assert.Contains(Category, text, StringComparison.Ordinal);
        Assert.Contains("<i>item&item_00_", text, StringComparison.Ordinal);

        // Every section leads with a plain sentence; developer facts come after the appendix heading, slot names only there.
        var sections = page.Descendants().Where(e => e.Name.LocalName == "section").ToList();
        var ids = sections.Select(s => (string?)s.Attribute("id")).ToList();
        Assert.Equal(["overview", "recommendations", "segments", "scores", "appendix"], ids);
        Assert.All(sections, s => Assert.Equal("lead", (string?)s.Elements().ElementAt(1).Attribute("class")));
        var main = string.Concat(sections.Take(4).Select(s => s.Value));
        var appendix = sections[4].Value;
        Assert.DoesNotContain("cat00_share", main, StringComparison.Ordinal);
        Assert.DoesNotContain("ev00_", main, StringComparison.Ordinal);
        Assert.DoesNotContain("log-loss", main, StringComparison.Ordinal);
        Assert.DoesNotContain("Seconds per stage", main, StringComparison.Ordinal);
        Assert.Contains("Seconds per stage", appendix, StringComparison.Ordinal);
        Assert.Contains("item_similarity.pairs", appendix, StringComparison.Ordinal);
        Assert.Contains("log-loss", appendix, StringComparison.Ordinal);
        Assert.Contains("mean_cat00_share", appendix, StringComparison.Ordinal);

        // Propensity for a marketer: accuracy against guessing, and the lift of the top 10 % measured on the hold-out.
        var scores = sections[3].Value;
        Assert.Contains("by guessing the most common category", scores, StringComparison.Ordinal);
        Assert.Contains("hold-out users, whom the model did not learn from", scores, StringComparison.Ordinal);
        Assert.Contains("How much more likely the top 10% are", scores, StringComparison.Ordinal);
        Assert.Matches(@"\d+(\.\d)?%", scores);
        // The category mix table is in the segments section, under the real category names.
        Assert.Contains("Category mix per segment", sections[2].Value, StringComparison.Ordinal);
    }
}
