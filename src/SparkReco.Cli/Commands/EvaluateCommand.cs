using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SparkReco.Core.Errors;
using SparkReco.Jobs;
using SparkReco.Jobs.Evaluation;
using SparkReco.Jobs.Running;

namespace SparkReco.Cli.Commands;

/// <summary>
/// <c>sparkreco evaluate</c>: builds the train model (temporal split of Input:Events, or --train) with the job's own
/// stage SQL, scores the held-out events, prints the metrics and optionally writes metrics.json. Publishes no tables.
/// </summary>
public static class EvaluateCommand
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

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
            using var loggers = ConsoleLogging.Create(verbose, quiet: !verbose);
            var logger = loggers.CreateLogger("SparkReco.Evaluate");
            var plan = JobPlan.Default().Through(EvaluationStage.Metrics);
            var context = await new JobRunner(settings, Engines.Factory(loggers), logger, plan: plan, artifacts: []).RunWithoutPublishingAsync(ct);

            var metrics = (IReadOnlyDictionary<string, object>)context.Metrics["evaluation"];
            Console.Out.Write(FormatTable(metrics, EvaluationSplit.Of(context)));
            if (parse.GetValue(options.Output) is { } output)
            {
                Directory.CreateDirectory(output);
                var path = Path.Combine(output, "metrics.json");
                var runId = "evaluate-" + DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
                await File.WriteAllTextAsync(path, JsonSerializer.Serialize(new { run_id = runId, as_of = context.AsOf, metrics = context.Metrics }, Json), ct);
                Console.Out.WriteLine($"metrics written to {path}");
            }
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The metrics as a fixed-width table, one row per source.</summary>
    public static string FormatTable(IReadOnlyDictionary<string, object> evaluation, EvaluationSplit splitFact)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        ArgumentNullException.ThrowIfNull(splitFact);
        var k = Convert.ToInt64(evaluation["k"], CultureInfo.InvariantCulture);
        var sources = (IReadOnlyDictionary<string, object>)evaluation["sources"];
        var split = splitFact.Description;
        var text = new System.Text.StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Evaluation at K = {k} ({split}): {evaluation["test_users"]} test users, {evaluation["relevant_pairs"]} held-out items, {evaluation["catalogue_items"]} train items");
        string[] columns = ["precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k", "hit_rate_at_k", "coverage_at_k", "mean_popularity"];
        text.Append(CultureInfo.InvariantCulture, $"{"source",-9}");
        foreach (var column in columns) text.Append(CultureInfo.InvariantCulture, $" {column.Replace("_at_k", $"@{k}", StringComparison.Ordinal),14}");
        text.AppendLine();
        double? history = null;
        foreach (var source in EvaluationStage.Sources)
        {
            if (!sources.TryGetValue(source, out var value)) continue;
            var figures = (IReadOnlyDictionary<string, object>)value;
            text.Append(CultureInfo.InvariantCulture, $"{source,-9}");
            foreach (var column in columns)
            {
                var number = figures.TryGetValue(column, out var v) ? Convert.ToDouble(v, CultureInfo.InvariantCulture) : double.NaN;
                text.Append(CultureInfo.InvariantCulture, $" {number,14:0.0000}");
            }
            text.AppendLine();
            if (figures.TryGetValue("history_mean_popularity", out var h)) history = Convert.ToDouble(h, CultureInfo.InvariantCulture);
        }
        if (history is { } hp) text.AppendLine(CultureInfo.InvariantCulture, $"mean popularity of the test users' train items: {hp:0.0000}");
        return text.ToString();
    }
}
