using System.Text.Json;
using Microsoft.Extensions.Logging;
using SparkReco.Cli;

namespace SparkReco.Tests.Cli;

public sealed class JsonLogLineTests
{
    [Fact]
    public void A_multi_line_message_stays_one_json_line_with_its_fields_and_exception()
    {
        var fields = new List<KeyValuePair<string, object?>>
        {
            new("Stage", "affinity"),
            new("Rows", 1234L),
            new("{OriginalFormat}", "Stage {Stage}: {Rows}"),
        };
        var line = RunJsonFormatter.Line(new DateTime(2026, 11, 29, 9, 0, 0, DateTimeKind.Utc), LogLevel.Warning, "SparkReco.Run",
            "first line\nsecond \"quoted\" line", "run-1", fields, new InvalidOperationException("boom"));

        Assert.DoesNotContain('\n', line);
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal("2026-11-29T09:00:00.000Z", root.GetProperty("timestamp").GetString());
        Assert.Equal("warning", root.GetProperty("level").GetString());
        Assert.Equal("first line\nsecond \"quoted\" line", root.GetProperty("message").GetString());
        Assert.Equal("run-1", root.GetProperty("run_id").GetString());
        Assert.Equal("1234", root.GetProperty("fields").GetProperty("Rows").GetString());
        Assert.False(root.GetProperty("fields").TryGetProperty("{OriginalFormat}", out _));
        Assert.Contains("boom", root.GetProperty("exception").GetString(), StringComparison.Ordinal);
    }
}
