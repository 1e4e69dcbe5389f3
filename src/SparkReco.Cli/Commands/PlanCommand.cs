using System.CommandLine;
using SparkReco.Core.Errors;
using SparkReco.Jobs;

namespace SparkReco.Cli.Commands;

public static class PlanCommand
{
    public static Command Create()
    {
        var options = new CommonOptions();
        var command = new Command("plan", "Print every stage's SQL, in DAG order, in the dialect of --engine (duckdb or spark), ready to paste into a SQL console. Runs nothing and needs no server.");
        options.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var settings = options.Load(parse);
            await PlanWriter.WriteAsync(settings, Engines.Dialect(settings.Engine.Kind), DateTime.UtcNow, Console.Out, ct);
            return ExitCodes.Success;
        });
        return command;
    }
}
