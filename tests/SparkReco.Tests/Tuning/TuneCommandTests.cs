using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using SparkReco.Cli;
using SparkReco.Cli.Commands;
using SparkReco.Generator;
using SparkReco.Jobs;
using SparkReco.Jobs.Evaluation;
using SparkReco.Jobs.Running;
using SparkReco.Jobs.Stages;
using SparkReco.Tests.Support;

namespace SparkReco.Tests.Tuning;

[Collection(CliCollection.Name)]
public sealed class TuneCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private async Task<string> GenerateAsync()
    {
        var folder = _dir.Combine("data");
        await SyntheticGenerator.GenerateAsync(new GeneratorOptions(folder, Events: 30_000, Users: 400, Items: 200, Communities: 4, Categories: 8, Seed: 3, Days: 28, Bots: 1), null, CancellationToken.None);
        return folder;
    }

    /// <summary>
    /// The validation input is the train side only: in temporal mode no event at or after the test cutoff, in random mode
    /// none of the held-out (user, item) pairs — the pairs are read from the outer split the evaluation itself makes.
    /// </summary>
    [Theory]
    [InlineData("temporal")]
    [InlineData("random")]
    public async Task The_validation_input_holds_nothing_of_the_test_side(string mode)
    {
        var data = await GenerateAsync();
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Input:Events"] = Path.Combine(data, "events"),
            ["Evaluation:Mode"] = mode,
        };
        var settings = SettingsLoader.Load(null, overrides);
        var work = _dir.Combine("work");
        var (layer, description) = await TuneCommand.ValidationOverridesAsync(settings, overrides, work, NullLoggerFactory.Instance, NullLogger.Instance, CancellationToken.None);
        var exported = layer["Input:Events"]!;
        Assert.StartsWith(work, exported, StringComparison.Ordinal);
        Assert.NotEmpty(description);

        var leaks = -1L;
        var exportedRows = -1L;
        await new JobRunner(settings, Engines.Factory(NullLoggerFactory.Instance), NullLogger.Instance, plan: JobPlan.Default().Through(EvaluationStage.TestEvents), artifacts: [])
            .RunWithoutPublishingAsync(async (engine, context, ct) =>
            {
                var parquet = $"read_parquet('{Path.Combine(exported, "**", "*.parquet")}')";
                exportedRows = Convert.ToInt64((await engine.QueryAsync($"SELECT count(*) AS n FROM {parquet}", ct))[0]["n"], CultureInfo.InvariantCulture);
                var leak = mode == "temporal"
                    ? $"SELECT count(*) AS n FROM {parquet} WHERE event_time >= TIMESTAMP '{EvaluationStage.Cutoff(context):yyyy-MM-dd HH:mm:ss}'"
                    : $"SELECT count(*) AS n FROM {parquet} AS e JOIN {engine.Dialect.Quote(EvaluationStage.TestEvents)} AS t ON t.user_id = e.user_id AND t.item_id = e.item_id";
                leaks = Convert.ToInt64((await engine.QueryAsync(leak, ct))[0]["n"], CultureInfo.InvariantCulture);
            }, CancellationToken.None);
        Assert.True(exportedRows > 10_000, $"{exportedRows} train events exported");
        Assert.Equal(0, leaks);
        if (mode == "random") Assert.Equal("43", layer["Evaluation:Seed"]);
        else Assert.NotNull(layer["Affinity:AsOf"]);
    }

    [Fact]
    public async Task Tune_prints_its_trials_and_writes_settings_that_run_accepts()
    {
        var data = await GenerateAsync();
        var tuned = _dir.Combine("tuned.json");
        var result = await CliRunner.RunAsync("tune", "--events", Path.Combine(data, "events"), "--items", Path.Combine(data, "items"),
            "--budget", "6", "--write", tuned);
        Assert.True(result.ExitCode == 0, result.Error + result.Out);
        Assert.Contains("Validation: temporal split of the events before the test cutoff", result.Out, StringComparison.Ordinal);
        Assert.Contains("the given settings", result.Out, StringComparison.Ordinal);
        Assert.Contains("On the test split (temporal)", result.Out, StringComparison.Ordinal);
        Assert.True(File.Exists(tuned));

        var run = await CliRunner.RunAsync("run", "--config", tuned, "--events", Path.Combine(data, "events"), "--output", _dir.Combine("out"));
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.True(File.Exists(_dir.Combine("out", "_SUCCESS")));
    }

    [Fact]
    public async Task Tune_refuses_a_budget_below_one_second()
    {
        var result = await CliRunner.RunAsync("tune", "--events", _dir.Combine("none"), "--budget", "0");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--budget 0", result.Error, StringComparison.Ordinal);
    }
}
