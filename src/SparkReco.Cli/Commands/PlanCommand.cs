using System.CommandLine;
using SparkReco.Core.Errors;
using SparkReco.Core.Stages;
using SparkReco.Input;
using SparkReco.Jobs;
using SparkReco.Jobs.Stages;

namespace SparkReco.Cli.Commands;

public static class PlanCommand
{
    public static Command Create()
    {
        var options = new CommonOptions();
        var command = new Command("plan", "Print every stage's SQL, in DAG order, ready to paste into a SQL console. Runs nothing.");
        options.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var settings = options.Load(parse);
            var dialect = Engines.Dialect(settings.Engine.Kind);
            var now = DateTime.UtcNow;
            // as_of is resolved from the data at run time; the plan shows the configured one, or now as a stand-in.
            var context = new StageContext(settings, dialect, settings.Affinity.AsOf ?? now, now, hasItems: true, hasFollows: true);
            var output = Console.Out;
            output.WriteLine($"-- SparkReco plan for engine {dialect.Name}; as_of = {context.AsOf:yyyy-MM-ddTHH:mm:ssZ}{(settings.Affinity.AsOf is null ? " (stand-in: a run uses the latest event time)" : "")}");
            if (settings.Input.Events is not null)
            {
                var catalog = await InputCatalog.OpenAsync(settings.Input, ct);
                foreach (var view in SourceTables.Render(catalog, settings.Input.Columns, dialect))
                    output.WriteLine($"\n{view};");
            }
            else
            {
                output.WriteLine($"-- (source views {SourceTables.Events}, {SourceTables.Items}, {SourceTables.Follows} are shown when Input:Events is set)");
            }
            foreach (var stage in JobPlan.Default().Stages)
            {
                output.WriteLine($"\n-- ===== stage {stage.Name}: {stage.Description}\n-- reads: {string.Join(", ", stage.Inputs)}{(stage.IsOutput ? "; published" : "")}");
                foreach (var sql in stage.RenderSql(context)) output.WriteLine(sql + ";");
            }
            if (settings.Privacy.PseudonymizeIds)
            {
                output.WriteLine("\n-- ===== publishing with Privacy:PseudonymizeIds: each published table is written through a projection that");
                output.WriteLine("-- replaces its user-id columns by md5(key || id); the key is bound as a parameter and never printed.");
                foreach (var stage in JobPlan.Default().Stages.Where(s => s.IsOutput && s.UserIdColumns.Count > 0))
                    output.WriteLine($"--   {stage.Name}: {string.Join(", ", stage.UserIdColumns.Concat(stage.UserIdMentions.Select(m => $"{m.TextColumn} (mentions {m.IdColumn})")))}");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
