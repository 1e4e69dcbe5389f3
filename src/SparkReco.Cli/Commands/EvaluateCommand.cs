using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using SparkReco.Core.Errors;
using SparkReco.Jobs;
using SparkReco.Jobs.Evaluation;
using SparkReco.Jobs.Reporting;
using SparkReco.Jobs.Running;

namespace SparkReco.Cli.Commands;

/// <summary>
/// <c>sparkreco evaluate</c>: builds the train model (temporal split of Input:Events, or --train) with the job's own
/// stage SQL, scores the held-out events, prints the metrics and optionally writes metrics.json. Publishes no tables.
/// </summary>
public static class EvaluateCommand
{
    public static Command Create()
    {
        var options = new CommonOptions();
        var train = new Option<string?>("--train") { Description = "Train events as Parquet (sets Input:Events and Evaluation:Mode = files); needs --test." };
        var test = new Option<string?>("--test") { Description = "Held-out events as Parquet, same columns as the train events (sets Evaluation:TestEvents); needs --train." };
        var command = new Command("evaluate",
            "Offline evaluation: train on the events before as_of - Evaluation:TestDays (or on --train), test on the rest (or on --test); " +
            "prints precision, recall, nDCG, MAP, hit rate, coverage and popularity per source. With --output, writes metrics.json there; publishes nothing else.");
        options.AddTo(command);
        command.Options.Add(train);
        command.Options.Add(test);
        command.SetAction(async (parse, ct) =>
        {
            var trainPath = parse.GetValue(train);
            var testPath = parse.GetValue(test);
            if ((trainPath is null) != (testPath is null))
                throw new ConfigurationException("evaluate: give both --train and --test, or neither (then Input:Events is split in time at as_of - Evaluation:TestDays).");
            var overrides = options.Overrides(parse);
            if (trainPath is not null)
            {
                overrides["Input:Events"] = trainPath;
                overrides["Evaluation:Mode"] = "files";
                overrides["Evaluation:TestEvents"] = testPath;
            }
            var configFile = parse.GetValue(options.Config);
            var settings = SettingsLoader.Load(configFile, overrides);
            if (settings.Evaluation.Mode == "none")
            {
                overrides["Evaluation:Mode"] = "temporal";
                settings = SettingsLoader.Load(configFile, overrides);
            }
            if (settings.Input.Events is null)
                throw new ConfigurationException("evaluate: no events; set Input:Events (or --events), or give --train and --test.");

            var verbose = parse.GetValue(options.Verbose);
            using var loggers = ConsoleLogging.Create(verbose, quiet: !verbose, parse.GetValue(options.LogFormat) ?? ConsoleLogging.TextFormat, Jobs.Running.JobRunner.NewRunId(DateTime.UtcNow));
            var logger = loggers.CreateLogger("SparkReco.Evaluate");
            var plan = JobPlan.Default().Through(EvaluationStage.Metrics);
            var context = await new JobRunner(settings, Engines.Factory(loggers), logger, plan: plan, artifacts: []).RunWithoutPublishingAsync(ct);

            var metrics = context.Results.Get<EvaluationMetrics>();
            Console.Out.Write(FormatTable(metrics, EvaluationSplit.Of(context)));
            if (parse.GetValue(options.Output) is { } output)
            {
                Directory.CreateDirectory(output);
                var path = Path.Combine(output, "metrics.json");
                var runId = "evaluate-" + DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
                await File.WriteAllTextAsync(path, MetricsArtifact.Serialize(runId, context.AsOf, context), ct);
                Console.Out.WriteLine($"metrics written to {path}");
            }
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The metrics as a fixed-width table, one row per source.</summary>
    public static string FormatTable(EvaluationMetrics evaluation, EvaluationSplit splitFact)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        ArgumentNullException.ThrowIfNull(splitFact);
        var k = evaluation.K;
        var text = new System.Text.StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Evaluation at K = {k} ({splitFact.Description}): {evaluation.TestUsers} test users ({evaluation.ColdTestUsers} without training history, scored on the back-fill list), {evaluation.RelevantPairs} held-out items, {evaluation.CatalogueItems} train items");
        text.Append(CultureInfo.InvariantCulture, $"{"source",-9}");
        foreach (var (name, _) in RecommendationSection.Columns) text.Append(CultureInfo.InvariantCulture, $" {name.Replace("_at_k", $"@{k}", StringComparison.Ordinal),14}");
        text.AppendLine();
        double? history = null;
        foreach (var source in EvaluationStage.Sources)
        {
            if (!evaluation.Sources.TryGetValue(source, out var figures)) continue;
            text.Append(CultureInfo.InvariantCulture, $"{source,-9}");
            foreach (var (_, value) in RecommendationSection.Columns)
                text.Append(CultureInfo.InvariantCulture, $" {value(figures) ?? double.NaN,14:0.0000}");
            text.AppendLine();
            history = figures.HistoryMeanPopularity ?? history;
        }
        if (history is { } hp) text.AppendLine(CultureInfo.InvariantCulture, $"mean popularity of the test users' train items: {hp:0.0000}");
        return text.ToString();
    }
}
