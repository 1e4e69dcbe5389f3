using SparkReco.Core.Errors;
using SparkReco.Publishing;

namespace SparkReco.EndToEnd.Tests;

public sealed class CommandLineTests : IDisposable
{
    private readonly TempDirectory _work = new();

    public void Dispose() => _work.Dispose();

    [Theory]
    [InlineData("run", "--config")]
    [InlineData("plan", "--engine")]
    [InlineData("validate", "--events")]
    [InlineData("generate", "--seed")]
    [InlineData("import", "--delimiter")]
    [InlineData("settings", "--markdown")]
    public async Task Every_command_has_help(string command, string option)
    {
        var result = await CliProcess.RunAsync(_work.Path, command, "--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains(option, result.Out);
        Assert.Contains("Usage:", result.Out);
    }

    [Fact]
    public async Task Unknown_command_is_a_usage_error()
    {
        var result = await CliProcess.RunAsync(_work.Path, "frobnicate");
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
    }

    [Fact]
    public async Task Generated_sample_runs_end_to_end_and_publishes_tables_manifest_and_success()
    {
        var generate = await CliProcess.RunAsync(_work.Path, "generate", "--output", "data", "--events", "40000", "--users", "400", "--items", "300");
        Assert.True(generate.ExitCode == 0, generate.Error);

        var run = await CliProcess.RunAsync(_work.Path, "run", "--events", "data/events", "--items", "data/items", "--follows", "data/follows",
            "--output", "output", "--set", "Clean:BotMaxEventsPerUser=2000");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.NotEmpty(Directory.GetFiles(_work.Combine("output", "affinity"), "*.parquet"));
        Assert.True(File.Exists(_work.Combine("output", "manifest.json")));
        Assert.True(File.Exists(_work.Combine("output", "_SUCCESS")));
        Assert.True(File.Exists(_work.Combine("output", "report.html")));
        Assert.Contains("Stage affinity on duckdb", run.Error); // structured log line per stage
    }

    [Fact]
    public async Task Exit_codes_distinguish_configuration_input_and_lock_failures()
    {
        Assert.Equal(ExitCodes.Usage, (await CliProcess.RunAsync(_work.Path, "run", "--config", "missing.json")).ExitCode);
        Assert.Equal(ExitCodes.InputData, (await CliProcess.RunAsync(_work.Path, "run", "--events", "nowhere")).ExitCode);

        Assert.Equal(0, (await CliProcess.RunAsync(_work.Path, "generate", "--output", "data", "--events", "5000", "--users", "100", "--items", "50")).ExitCode);
        using (OutputLock.Acquire(_work.Combine("output"), "held-by-test"))
        {
            var locked = await CliProcess.RunAsync(_work.Path, "run", "--events", "data/events", "--output", "output");
            Assert.Equal(ExitCodes.Publish, locked.ExitCode);
            Assert.Contains("locked", locked.Error);
        }
    }
}
