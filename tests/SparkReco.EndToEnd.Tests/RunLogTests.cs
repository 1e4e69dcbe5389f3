namespace SparkReco.EndToEnd.Tests;

/// <summary>What a run tells the person or scheduler watching it: why stages did not run, and where to look at the end.</summary>
public sealed class RunLogTests : IDisposable
{
    private readonly TempDirectory _work = new();

    public void Dispose() => _work.Dispose();

    [Fact]
    public async Task Skipped_stages_are_logged_with_their_reason_and_the_run_ends_with_its_time_and_report()
    {
        Assert.Equal(0, (await CliProcess.RunAsync(_work.Path, "generate", "--output", "data", "--events", "3000", "--users", "60", "--items", "40")).ExitCode);
        // No item metadata, no recommenders, evaluation off: each skip has a different cause.
        var run = await CliProcess.RunAsync(_work.Path, "run", "--events", "data/events", "--output", "output",
            "--set", "Recommend:Enabled=false", "--set", "Evaluation:Mode=none");
        Assert.True(run.ExitCode == 0, run.Error);

        Assert.Contains("Stage user_scores skipped: no item metadata (Input:Items is not set)", run.Error, StringComparison.Ordinal);
        Assert.Contains("Stage recommendations skipped: Recommend:Enabled=false", run.Error, StringComparison.Ordinal);
        Assert.Contains("Stage item_similarity skipped: Recommend:Enabled=false", run.Error, StringComparison.Ordinal);
        Assert.Contains("Stage eval_metrics skipped: Evaluation:Mode=none", run.Error, StringComparison.Ordinal);
        // Stages that run are not reported as skipped.
        Assert.DoesNotContain("Stage affinity skipped", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Stage segments skipped", run.Error, StringComparison.Ordinal);

        var report = Path.Combine(Path.GetFullPath(_work.Combine("output")), "report.html");
        Assert.True(File.Exists(report));
        var lastOut = run.Out.TrimEnd().Split('\n')[^1];
        Assert.Matches(@"^Finished in \d+\.\d s; report: ", lastOut);
        Assert.EndsWith("report: " + report, lastOut, StringComparison.Ordinal);
        var lastLog = run.Error.TrimEnd().Split('\n')[^1];
        Assert.Matches(@"Run \S+ finished in \d+\.\d s; report: ", lastLog);
        Assert.EndsWith("report: " + report, lastLog, StringComparison.Ordinal);
    }
}
