using SparkReco.Core.Configuration;
using SparkReco.Core.Sql;
using SparkReco.Core.Stages;
using SparkReco.Input;
using SparkReco.Jobs.Reporting;
using SparkReco.Jobs.Running;
using SparkReco.Jobs.Stages;

namespace SparkReco.Jobs;

/// <summary>A part of the plan: a header (comment lines; none for the source views) and its statements, each without <c>;</c>.</summary>
public sealed record PlanSection(string? Header, IReadOnlyList<string> Statements);

/// <summary>
/// Writes the whole job as SQL in one dialect (what <c>sparkreco plan</c> prints): the source views, as_of, the row checks,
/// every stage that runs with these settings and inputs in DAG order, the writes of the published tables and the report's
/// queries, each statement ending in <c>;</c>. The stages'
/// steps are walked as a run walks them, so these are the statements a run executes. Needs no engine, so the Spark plan
/// is printed without a server.
/// </summary>
public static class PlanWriter
{
    /// <param name="now">Stands in for the run's start time (the future-event check, and as_of when none is configured).</param>
    public static async Task WriteAsync(JobSettings settings, ISqlDialect dialect, DateTime now, TextWriter output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        await output.WriteLineAsync($"-- SparkReco plan for engine {dialect.Name}; as_of = {(settings.Affinity.AsOf ?? now):yyyy-MM-ddTHH:mm:ssZ}{(settings.Affinity.AsOf is null ? " (stand-in: a run uses the latest event time)" : "")}");
        if (settings.Input.Events is null)
            await output.WriteLineAsync($"-- (source views {SourceTables.Events}, {SourceTables.Items}, {SourceTables.Follows}, as_of and row checks are shown when Input:Events is set)");
        var (sections, enabled, skipped) = await BuildAsync(settings, dialect, now, ct);
        foreach (var section in sections)
        {
            if (section.Header is null)
            {
                foreach (var sql in section.Statements) await output.WriteLineAsync($"\n{sql};");
                continue;
            }
            await output.WriteLineAsync("\n" + section.Header);
            foreach (var sql in section.Statements) await output.WriteLineAsync(sql + ";");
        }
        if (skipped.Count > 0)
            await output.WriteLineAsync($"\n-- not run with these settings and inputs: {string.Join(", ", skipped)}");
        if (settings.Privacy.PseudonymizeIds)
        {
            await output.WriteLineAsync("\n-- ===== publishing with Privacy:PseudonymizeIds: each published table is written through a projection that");
            await output.WriteLineAsync("-- replaces its user-id columns by HMAC-SHA256(key, id) with the key read from this session-only table:");
            await output.WriteLineAsync(Pseudonymizer.DescribeKey(dialect));
            foreach (var stage in enabled.Where(s => s.IsOutput && s.UserIdColumns.Count > 0))
                await output.WriteLineAsync($"--   {stage.Name}: {string.Join(", ", stage.UserIdColumns.Concat(stage.UserIdMentions.Select(m => $"{m.TextColumn} (mentions {m.IdColumn})")))}");
        }
    }

    /// <summary>The plan's line for writing a published table (<c>IEngine.WriteParquetAsync</c>: the engine's own writer, no dialect SQL).</summary>
    public static string DescribeWrite(string table, IReadOnlyList<string> orderBy) =>
        $"-- write {table} as Parquet{(orderBy.Count == 0 ? "" : $", rows ordered by {string.Join(", ", orderBy)}")}";

    /// <summary>The plan's sections in run order: source views, as_of (when not configured), row checks, one per enabled stage.</summary>
    public static async Task<IReadOnlyList<PlanSection>> SectionsAsync(JobSettings settings, ISqlDialect dialect, DateTime now, CancellationToken ct) =>
        (await BuildAsync(settings, dialect, now, ct)).Sections;

    private static async Task<(List<PlanSection> Sections, IReadOnlyList<IStage> Enabled, List<string> Skipped)> BuildAsync(JobSettings settings, ISqlDialect dialect, DateTime now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(dialect);
        var catalog = settings.Input.Events is null ? null : await InputInspectors.For(settings).InspectAsync(settings.Input, ct);
        // as_of is resolved from the data at run time; the plan shows the configured one, or now as a stand-in. Without
        // inputs the plan shows every stage, as if items and follows were given.
        var context = new StageContext(settings, dialect, settings.Affinity.AsOf ?? now, now,
            hasItems: catalog is null || catalog.Items is not null, hasFollows: catalog is null || catalog.Follows is not null);
        var sections = new List<PlanSection>();
        if (catalog is not null)
        {
            sections.Add(new PlanSection(null, SourceTables.Render(catalog, settings.Input.Columns, dialect).ToList()));
            if (settings.Affinity.AsOf is null)
                sections.Add(new PlanSection("-- ===== as_of: the latest plausible event time, the run's reference time", [JobRunner.RenderAsOf(dialect, now)]));
            sections.Add(new PlanSection("-- ===== validate_rows: row checks that fail the run before any stage does work",
                StepWalker.Render(EventChecks.Steps(context, settings.Input.Events!, _ => { }), dialect)));
        }
        // The stages below run on validated input, as in a run.
        context.InputChecks = new Dictionary<string, long>(StringComparer.Ordinal);
        var plan = JobPlan.Default();
        var enabled = plan.Enabled(context);
        foreach (var stage in enabled)
            sections.Add(new PlanSection($"-- ===== stage {stage.Name}: {stage.Description}\n-- reads: {string.Join(", ", stage.Inputs)}{(stage.IsOutput ? "; published" : "")}", Render(stage, context)));
        // The engine writes the published tables with its own writer (DuckDB COPY, Spark's DataFrame writer), then the report reads aggregates.
        sections.Add(new PlanSection("-- ===== publish: each published table is written as Parquet into the run's staging folder, then moved into place",
            enabled.Where(s => s.IsOutput).Select(s => DescribeWrite(s.Name, s.OutputOrder)).ToList()));
        sections.Add(new PlanSection("-- ===== report.html: the aggregates its sections read",
            ReportArtifact.Enabled(RunArtifacts.ReportSections(), context).SelectMany(section => section.Queries(context)).ToList()));
        return (sections, enabled, plan.Stages.Where(s => !enabled.Contains(s)).Select(s => s.Name).ToList());
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
