using System.CommandLine;
using Microsoft.Extensions.Logging;
using SparkReco.Core.Errors;
using SparkReco.Jobs.Running;

namespace SparkReco.Cli.Commands;

public static class RunCommand
{
    public static Command Create()
    {
        var options = new CommonOptions();
        var command = new Command("run", "Run the whole job: check inputs, run every stage, publish tables, manifest.json and _SUCCESS atomically.");
        options.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var verbose = parse.GetValue(options.Verbose);
            var interactive = ProgressDisplay.IsInteractive;
            var logFormat = parse.GetValue(options.LogFormat) ?? ConsoleLogging.TextFormat;
            // Made before the logger, so that every log line of the run can carry it.
            var runId = JobRunner.NewRunId(DateTime.UtcNow);
            using var loggers = ConsoleLogging.Create(verbose, quiet: interactive && !verbose && logFormat == ConsoleLogging.TextFormat, logFormat, runId);
            var logger = loggers.CreateLogger("SparkReco.Run");
            // Loaded after the logger is set up, so a configuration error is a log line in the chosen format too.
            var settings = options.Load(parse);
            var result = await ProgressDisplay.RunAsync(observer =>
                new JobRunner(settings, Engines.Factory(loggers), logger, observer).RunAsync(ct, runId));
            Console.Out.WriteLine($"Run {result.Manifest.RunId} published to {result.OutputDirectory}");
            foreach (var (table, rows) in result.Manifest.RowCounts)
                Console.Out.WriteLine($"  {table,-20} {rows,12:N0} rows");
            Console.Out.WriteLine($"Finished in {(DateTime.UtcNow - result.Manifest.StartedAt).TotalSeconds:F1} s; report: {result.ReportPath ?? "none (no report was written)"}");
            return ExitCodes.Success;
        });
        return command;
    }
}
