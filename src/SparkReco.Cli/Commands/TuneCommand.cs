using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using SparkReco.Core.Configuration;
using SparkReco.Core.Errors;
using SparkReco.Jobs.Stages;
using SparkReco.Jobs;
using SparkReco.Jobs.Evaluation;
using SparkReco.Jobs.Running;
using SparkReco.Jobs.Tuning;

namespace SparkReco.Cli.Commands;

/// <summary>
/// <c>sparkreco tune</c>: searches the recommendation settings that matter (<see cref="TuningSearch.DefaultDimensions"/>)
/// on a validation split carved from the training side of the configured evaluation split, so the test period (or the
/// held-out pairs, or the test file) is never looked at while choosing. Prints every trial, then measures the starting and
/// the tuned settings once on the real test split, and writes the tuned settings as a JSON file run --config reads.
/// </summary>
public static class TuneCommand
{
    private const string ValidationTable = "tune_train_events";

    public static Command Create()
    {
        var options = new CommonOptions();
        var budget = new Option<int>("--budget") { Description = "Seconds the search may take (the final test-split check adds two evaluations).", DefaultValueFactory = _ => 180 };
        var write = new Option<string>("--write") { Description = "JSON file for the tuned settings (a configuration run --config reads).", DefaultValueFactory = _ => "tuned-settings.json" };
        var command = new Command("tune",
            "Search the recommendation settings (item model and measure, RP3β α, similar items kept, blend weights, neighbours, popularity penalty, half-life) by nDCG@K of the blend on a " +
            "validation split of the training side only; print each trial, compare start and tuned settings on the test split, and write the tuned settings as JSON.");
        options.AddTo(command);
        command.Options.Add(budget);
        command.Options.Add(write);
        command.SetAction(async (parse, ct) =>
        {
            var seconds = parse.GetValue(budget);
            if (seconds < 1) throw new ConfigurationException($"--budget {seconds}: give the search at least 1 second.");
            var configFile = parse.GetValue(options.Config);
            var overrides = options.Overrides(parse);
            var settings = SettingsLoader.Load(configFile, overrides);
            if (settings.Evaluation.Mode == "none")
            {
                overrides["Evaluation:Mode"] = "temporal";
                settings = SettingsLoader.Load(configFile, overrides);
            }
            if (settings.Input.Events is null)
                throw new ConfigurationException("tune: no events; set Input:Events (or --events).");
            // The validation input is written to a local temporary folder, which a Spark cluster cannot read.
            if (settings.Engine.Kind != "duckdb")
                throw new ConfigurationException($"tune runs on the embedded engine (Engine:Kind=duckdb), not '{settings.Engine.Kind}': tune on a sample locally and run the cluster with the tuned settings.");
            var target = Path.GetFullPath(parse.GetValue(write)!);

            var verbose = parse.GetValue(options.Verbose);
            using var loggers = ConsoleLogging.Create(verbose, quiet: !verbose, parse.GetValue(options.LogFormat) ?? ConsoleLogging.TextFormat, JobRunner.NewRunId(DateTime.UtcNow));
            var logger = loggers.CreateLogger("SparkReco.Tune");
            var work = Path.Combine(Path.GetTempPath(), "sparkreco-tune-" + Guid.NewGuid().ToString("N")[..12]);
            try
            {
                var validation = await ValidationOverridesAsync(settings, overrides, work, loggers, logger, ct);
                Console.Out.WriteLine($"Validation: {validation.Description}. Objective: nDCG@{settings.Evaluation.K} of the blend. Budget {seconds} s.");

                async Task<EvaluationMetrics> EvaluateAsync(IReadOnlyDictionary<string, string?> layer, IReadOnlyDictionary<string, string> tuned, CancellationToken token)
                {
                    var o = new Dictionary<string, string?>(layer, StringComparer.OrdinalIgnoreCase);
                    foreach (var (key, value) in tuned) o[key] = value;
                    var s = SettingsLoader.Load(configFile, o);
                    var context = await new JobRunner(s, Engines.Factory(loggers), logger, plan: JobPlan.Default().Through(EvaluationStage.Metrics), artifacts: [])
                        .RunWithoutPublishingAsync(token);
                    return context.Results.Get<EvaluationMetrics>();
                }
                static double Blend(EvaluationMetrics m) => m.Sources.TryGetValue("blend", out var b) ? b.NdcgAtK ?? 0 : 0;

                var start = Current(settings);
                Console.Out.WriteLine($"{"trial",5}  {"dimension",-28} {"choice",-18} {"nDCG",8} {"seconds",8}");
                var search = new TuningSearch(TuningSearch.DefaultDimensions, TimeSpan.FromSeconds(seconds));
                var result = await search.RunAsync(start,
                    async (tuned, token) => Blend(await EvaluateAsync(validation.Overrides, tuned, token)),
                    trial => Console.Out.WriteLine($"{trial.Number,5}  {trial.Dimension,-28} {trial.Choice,-18} {trial.Score,8:0.0000} {trial.Seconds,8:0.0}{(trial.Improved ? "  best so far" : "")}"),
                    ct);
                Console.Out.WriteLine($"Stopped after {result.Trials.Count} trials: {result.StoppedBecause}.");
                var changes = result.Best.Where(kv => start[kv.Key] != kv.Value).Select(kv => $"{kv.Key}={kv.Value}").ToList();
                Console.Out.WriteLine(changes.Count == 0 ? "No change beats the given settings on validation." : $"Tuned: {string.Join(", ", changes)} (validation nDCG {result.BaselineScore:0.0000} -> {result.BestScore:0.0000}).");

                // The one look at the test side, after choosing: how the choice does on data the search never saw.
                var before = Blend(await EvaluateAsync(overrides, start, ct));
                var after = changes.Count == 0 ? before : Blend(await EvaluateAsync(overrides, result.Best, ct));
                Console.Out.WriteLine($"On the test split ({settings.Evaluation.Mode}): nDCG@{settings.Evaluation.K} of the blend {before:0.0000} with the given settings, {after:0.0000} tuned.");

                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                await File.WriteAllTextAsync(target, TuningSearch.ToConfigJson(result.Best) + Environment.NewLine, ct);
                Console.Out.WriteLine($"Tuned settings written to {target} (use: sparkreco run --config {target}).");
                return ExitCodes.Success;
            }
            finally
            {
                if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
            }
        });
        return command;
    }

    /// <summary>The starting values of every tuned key, as the settings hold them.</summary>
    public static IReadOnlyDictionary<string, string> Current(JobSettings s)
    {
        ArgumentNullException.ThrowIfNull(s);
        static string N(double value) => value.ToString("R", CultureInfo.InvariantCulture);
        return new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["Recommend:ItemModel"] = s.Recommend.ItemModel,
            ["Similarity:Measure"] = s.Similarity.Measure,
            ["Similarity:Rp3Alpha"] = N(s.Similarity.Rp3Alpha),
            ["Similarity:Rp3Beta"] = N(s.Similarity.Rp3Beta),
            ["Ease:Lambda"] = N(s.Ease.Lambda),
            ["Recommend:ItemWeight"] = N(s.Recommend.ItemWeight),
            ["Recommend:UserWeight"] = N(s.Recommend.UserWeight),
            ["Affinity:HalfLifeDays"] = N(s.Affinity.HalfLifeDays),
            ["Neighbors:TopK"] = s.Neighbors.TopK.ToString(CultureInfo.InvariantCulture),
            ["Neighbors:MaxItemsPerNeighbor"] = s.Neighbors.MaxItemsPerNeighbor.ToString(CultureInfo.InvariantCulture),
            ["Neighbors:WeightExponent"] = N(s.Neighbors.WeightExponent),
            ["Neighbors:PopularityPenalty"] = N(s.Neighbors.PopularityPenalty),
            ["Similarity:TopK"] = s.Similarity.TopK.ToString(CultureInfo.InvariantCulture),
            ["Recommend:PopularityPenalty"] = N(s.Recommend.PopularityPenalty),
        };
    }

    /// <summary>
    /// The configuration layer of the validation runs. temporal and random: the train side of the configured split is
    /// written once to Parquet (with the input's own column names) and split again the same way — temporal as of the
    /// cutoff, random with the next seed. files: Input:Events is already the train side; it is split at random.
    /// </summary>
    public static async Task<(Dictionary<string, string?> Overrides, string Description)> ValidationOverridesAsync(
        JobSettings settings, Dictionary<string, string?> overrides, string work, ILoggerFactory loggers, ILogger logger, CancellationToken ct)
    {
        var e = settings.Evaluation;
        var layer = new Dictionary<string, string?>(overrides, StringComparer.OrdinalIgnoreCase);
        if (e.Mode == "files")
        {
            layer["Evaluation:Mode"] = "random";
            layer["Evaluation:TestEvents"] = null;
            return (layer, $"random split (seed {e.Seed}, {e.TestFraction:P0} of each user's items) of the train file; the test file is not read");
        }

        var folder = Path.Combine(work, "train_events");
        var cutoff = DateTime.MinValue;
        var plan = JobPlan.Default().Through(TableScope.Train["clean_events"]);
        await new JobRunner(settings, Engines.Factory(loggers), logger, plan: plan, artifacts: []).RunWithoutPublishingAsync(async (engine, context, token) =>
        {
            cutoff = EvaluationStage.Cutoff(context);
            var columns = settings.Input.Columns;
            var q = engine.Dialect.Quote;
            await engine.ExecuteAsync(engine.Dialect.CreateView(ValidationTable,
                $"""
                SELECT
                    user_id AS {q(columns.UserId)},
                    item_id AS {q(columns.ItemId)},
                    event_type AS {q(columns.EventType)},
                    event_time AS {q(columns.EventTime)},
                    weight AS {q(columns.Weight)}
                FROM {q(TableScope.Train["clean_events"])}
                """), token);
            await engine.WriteParquetAsync(ValidationTable, folder, [columns.UserId, columns.ItemId, columns.EventTime, columns.EventType], "zstd", token);
        }, ct);
        layer["Input:Events"] = folder;
        if (e.Mode == "random")
        {
            layer["Evaluation:Seed"] = (e.Seed + 1).ToString(CultureInfo.InvariantCulture);
            return (layer, $"random split with seed {e.Seed + 1} of the train side of the seed-{e.Seed} split");
        }
        layer["Affinity:AsOf"] = cutoff.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        return (layer, $"temporal split of the events before the test cutoff {cutoff:yyyy-MM-ddTHH:mm:ssZ}, at {cutoff.AddDays(-e.TestDays):yyyy-MM-ddTHH:mm:ssZ}");
    }
}
