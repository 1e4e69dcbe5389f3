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
            var settings = options.Load(parse);
            var interactive = ProgressDisplay.IsInteractive;
            using var loggers = ConsoleLogging.Create(verbose, quiet: interactive && !verbose);
            var logger = loggers.CreateLogger("SparkReco.Run");
            var result = await ProgressDisplay.RunAsync(observer =>
                new JobRunner(settings, Engines.Factory(loggers), logger, observer).RunAsync(ct));
            Console.Out.WriteLine($"Run {result.Manifest.RunId} published to {result.OutputDirectory}");
            foreach (var (table, rows) in result.Manifest.RowCounts)
                Console.Out.WriteLine($"  {table,-20} {rows,12:N0} rows");
            return ExitCodes.Success;
        });
        return command;
    }
}
