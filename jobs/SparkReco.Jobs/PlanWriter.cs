using SparkReco.Core.Configuration;
using SparkReco.Core.Sql;
using SparkReco.Core.Stages;
using SparkReco.Input;
using SparkReco.Jobs.Stages;

namespace SparkReco.Jobs;

/// <summary>
/// Writes the whole job as SQL in one dialect (what <c>sparkreco plan</c> prints): the source views, then every stage's
/// statements in DAG order, each ending in <c>;</c>. Needs no engine, so the Spark plan is printed without a server.
/// </summary>
public static class PlanWriter
{
    /// <param name="now">Stands in for the run's start time (the future-event check, and as_of when none is configured).</param>
    public static async Task WriteAsync(JobSettings settings, ISqlDialect dialect, DateTime now, TextWriter output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(dialect);
        ArgumentNullException.ThrowIfNull(output);
        // as_of is resolved from the data at run time; the plan shows the configured one, or now as a stand-in.
        var context = new StageContext(settings, dialect, settings.Affinity.AsOf ?? now, now, hasItems: true, hasFollows: true);
        await output.WriteLineAsync($"-- SparkReco plan for engine {dialect.Name}; as_of = {context.AsOf:yyyy-MM-ddTHH:mm:ssZ}{(settings.Affinity.AsOf is null ? " (stand-in: a run uses the latest event time)" : "")}");
        if (settings.Input.Events is not null)
        {
            var catalog = await InputCatalog.OpenAsync(settings.Input, ct);
            foreach (var view in SourceTables.Render(catalog, settings.Input.Columns, dialect))
                await output.WriteLineAsync($"\n{view};");
        }
        else
        {
            await output.WriteLineAsync($"-- (source views {SourceTables.Events}, {SourceTables.Items}, {SourceTables.Follows} are shown when Input:Events is set)");
        }
        foreach (var stage in JobPlan.Default().Stages)
        {
            await output.WriteLineAsync($"\n-- ===== stage {stage.Name}: {stage.Description}\n-- reads: {string.Join(", ", stage.Inputs)}{(stage.IsOutput ? "; published" : "")}");
            foreach (var sql in Render(stage, context)) await output.WriteLineAsync(sql + ";");
        }
        if (settings.Privacy.PseudonymizeIds)
        {
            await output.WriteLineAsync("\n-- ===== publishing with Privacy:PseudonymizeIds: each published table is written through a projection that");
            await output.WriteLineAsync("-- replaces its user-id columns by HMAC-SHA256(key, id); the key's padded blocks are registered as a one-row table and never printed.");
            foreach (var stage in JobPlan.Default().Stages.Where(s => s.IsOutput && s.UserIdColumns.Count > 0))
                await output.WriteLineAsync($"--   {stage.Name}: {string.Join(", ", stage.UserIdColumns.Concat(stage.UserIdMentions.Select(m => $"{m.TextColumn} (mentions {m.IdColumn})")))}");
        }
    }

    /// <summary>
    /// A stage's SQL, rendered now; a feature the dialect lacks fails here, naming the stage (both <c>plan</c> and the
    /// run's pre-flight check go through this).
    /// </summary>
    public static IReadOnlyList<string> Render(IStage stage, StageContext context)
    {
        ArgumentNullException.ThrowIfNull(stage);
        try
        {
            return stage.RenderSql(context).ToList();
        }
        catch (SqlFeatureNotSupportedException e)
        {
            throw JobPlan.AtStage(e, stage.Name);
        }
    }
}
