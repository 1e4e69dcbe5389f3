using Microsoft.Extensions.Logging;
using SparkReco.Core.Engine;

namespace SparkReco.Core.Stages;

/// <summary>The row count a <see cref="StepStage"/> reports: the last table it made under its own name, unless a step sets it.</summary>
public sealed class StageRows
{
    public long Rows { get; set; }
}

/// <summary>
/// A stage written as ordered steps (<see cref="StageStep"/>): <see cref="RenderSql"/> and <see cref="RunAsync"/> walk the
/// same sequence, so <c>plan</c> prints exactly the statements a run executes.
/// </summary>
public abstract class StepStage : IStage
{
    public abstract string Name { get; }
    public abstract string Description { get; }
    public abstract IReadOnlyList<string> Inputs { get; }
    public virtual bool IsOutput => false;
    public virtual IReadOnlyList<string> OutputOrder => [];
    public virtual bool IsEnabled(StageContext context) => true;
    public virtual string DisabledReason(StageContext context) => "turned off by its settings";
    public virtual bool Reads(string input, StageContext context) => true;
    public virtual IReadOnlyList<string> UserIdColumns => [];
    public virtual IReadOnlyList<UserIdMention> UserIdMentions => [];

    /// <summary>
    /// The steps in order. The sequence is lazy: a step may be built from what earlier steps' callbacks learnt (at run
    /// time from the data, in <c>plan</c> from <see cref="QueryStep.PlanRows"/>).
    /// </summary>
    public abstract IEnumerable<StageStep> Steps(StageContext context, StageRows result);

    public IEnumerable<string> RenderSql(StageContext context) => StepWalker.Render(Steps(context, new StageRows()), context.Dialect);

    public async Task<long> RunAsync(IEngine engine, StageContext context, CancellationToken cancellationToken)
    {
        var result = new StageRows();
        await StepWalker.RunAsync(Name, Steps(context, result), engine, result, context.Logger, cancellationToken);
        return result.Rows;
    }
}

/// <summary>Walks a stage's steps: on an engine (run) or into statements (plan).</summary>
public static class StepWalker
{
    public static IReadOnlyList<string> Render(IEnumerable<StageStep> steps, Sql.ISqlDialect dialect)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var statements = new List<string>();
        foreach (var step in steps)
        {
            statements.AddRange(step.Render(dialect));
            if (step is QueryStep { PlanRows: { } rows } query) query.OnRows(rows);
        }
        return statements;
    }

    /// <param name="table">The stage's table: materialising or registering it sets <paramref name="result"/>'s row count.</param>
    /// <param name="logger">
    /// Hears, at debug level, the plan's line for the steps that are no SQL statement (driver work, registrations), so a
    /// verbose log reads like the plan; the engine logs the statements themselves.
    /// </param>
    public static async Task RunAsync(string table, IEnumerable<StageStep> steps, IEngine engine, StageRows result, ILogger logger, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(logger);
        foreach (var step in steps)
        {
            ct.ThrowIfCancellationRequested();
            if (step is DriverStep or RegisterStep)
                foreach (var line in step.Render(engine.Dialect)) logger.LogDebug("{Step}", line);
            switch (step)
            {
                case MaterializeStep m:
                    var rows = await engine.CreateTableAsync(m.Table, m.Select, ct);
                    if (m.Table == table) result.Rows = rows;
                    m.OnRows?.Invoke(rows);
                    break;
                case ExecuteStep e:
                    await engine.ExecuteAsync(e.Sql, ct);
                    break;
                case QueryStep q:
                    q.OnRows(await engine.QueryAsync(q.Sql, ct));
                    break;
                case ReadStep read:
                    read.OnColumns(await engine.ReadColumnsAsync(read.Sql, ct));
                    break;
                case DriverStep d:
                    d.Run();
                    break;
                case RegisterStep r:
                    var registered = await engine.WriteTableAsync(r.Table, r.Schema, One(r.Rows()), r.SessionOnly, ct);
                    if (r.Table == table) result.Rows = registered;
                    break;
                default:
                    throw new NotSupportedException($"Unknown step {step.GetType().Name}.");
            }
        }
    }

    private static async IAsyncEnumerable<ColumnTable> One(ColumnTable block)
    {
        await Task.CompletedTask;
        yield return block;
    }
}
