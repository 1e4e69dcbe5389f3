using System.CommandLine;
using Microsoft.Extensions.Logging;
using SparkReco.Core.Errors;
using SparkReco.Core.Stages;
using SparkReco.Input;
using SparkReco.Jobs.Running;
using SparkReco.Jobs.Stages;

namespace SparkReco.Cli.Commands;

public static class ValidateCommand
{
    public static Command Create()
    {
        var options = new CommonOptions();
        var command = new Command("validate", "Check configuration and input against the contract (footers, then row checks in the engine). Writes nothing.");
        options.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var settings = options.Load(parse);
            using var loggers = ConsoleLogging.Create(parse.GetValue(options.Verbose), quiet: false, parse.GetValue(options.LogFormat) ?? ConsoleLogging.TextFormat, Jobs.Running.JobRunner.NewRunId(DateTime.UtcNow));
            JobRunner.CheckOutputPlacement(settings);
            var catalog = await InputInspectors.For(settings, token => Engines.Factory(loggers)(settings.Engine, token)).InspectAsync(settings.Input, ct);
            await using var engine = await Engines.Factory(loggers)(settings.Engine, ct);
            foreach (var view in SourceTables.Render(catalog, settings.Input.Columns, engine.Dialect))
                await engine.ExecuteAsync(view, ct);
            var now = DateTime.UtcNow;
            var context = new StageContext(settings, engine.Dialect, settings.Affinity.AsOf ?? now, now, catalog.Items is not null, catalog.Follows is not null);
            var counts = await EventChecks.RunAsync(engine, context, settings.Input.Events!, ct);

            Console.Out.WriteLine($"events  {catalog.Events.Files.Count} file(s), {catalog.Events.Rows:N0} rows: OK");
            if (catalog.Items is { } items) Console.Out.WriteLine($"items   {items.Files.Count} file(s), {items.Rows:N0} rows: OK");
            if (catalog.Follows is { } follows) Console.Out.WriteLine($"follows {follows.Files.Count} file(s), {follows.Rows:N0} rows: OK");
            foreach (var (reason, n) in counts.Where(kv => !EventChecks.Totals.Contains(kv.Key) && kv.Value > 0))
                Console.Out.WriteLine($"  will drop {n:N0} rows: {reason.Replace('_', ' ')}");
            return ExitCodes.Success;
        });
        return command;
    }
}
