using System.Text.Json;
using SparkReco.Core.Errors;
using SparkReco.Publishing;

namespace SparkReco.EndToEnd.Tests;

/// <summary><c>--log-format json</c>: what a log shipper reads from stderr.</summary>
public sealed class LogFormatTests : IDisposable
{
    private readonly TempDirectory _work = new();

    public void Dispose() => _work.Dispose();

    [Fact]
    public async Task Json_log_format_writes_one_object_per_stderr_line_each_with_the_run_id_of_the_manifest()
    {
        Assert.Equal(0, (await CliProcess.RunAsync(_work.Path, "generate", "--output", "data", "--events", "3000", "--users", "60", "--items", "40")).ExitCode);
        var run = await CliProcess.RunAsync(_work.Path, "run", "--events", "data/events", "--items", "data/items", "--output", "output", "--log-format", "json");
        Assert.True(run.ExitCode == 0, run.Error);

        var runId = RunManifest.Read(_work.Combine("output", "manifest.json"))!.RunId;
        var lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 5, $"expected a log line per stage, got {lines.Length}:\n{run.Error}");
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            Assert.Equal(runId, root.GetProperty("run_id").GetString());
            Assert.True(DateTime.TryParse(root.GetProperty("timestamp").GetString(), out _), line);
            Assert.Contains(root.GetProperty("level").GetString(), new[] { "debug", "information", "warning", "error" });
            Assert.False(string.IsNullOrEmpty(root.GetProperty("category").GetString()), line);
            Assert.False(string.IsNullOrEmpty(root.GetProperty("message").GetString()), line);
        }
        Assert.Contains(lines, l => l.Contains("\"message\":\"Stage affinity on duckdb", StringComparison.Ordinal) && l.Contains("\"Stage\":\"affinity\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Json_log_format_writes_the_error_of_a_failed_run_as_a_json_line_too()
    {
        var run = await CliProcess.RunAsync(_work.Path, "run", "--events", "nowhere", "--output", "output", "--log-format", "json");
        Assert.Equal(ExitCodes.InputData, run.ExitCode);
        var last = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        using var json = JsonDocument.Parse(last);
        Assert.Equal("error", json.RootElement.GetProperty("level").GetString());
        Assert.Contains("nowhere", json.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("run_id").GetString()));
    }

    [Fact]
    public async Task Unknown_log_format_is_a_usage_error()
    {
        var run = await CliProcess.RunAsync(_work.Path, "run", "--events", "data/events", "--log-format", "xml");
        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("xml", run.Error, StringComparison.Ordinal);
    }
}
