using System.Globalization;
using SparkReco.Core.Engine;
using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>The work a stage will need, estimated by one cheap query before any pair is generated.</summary>
/// <param name="What">What is counted, for the log and the error (e.g. "item pair updates").</param>
/// <param name="Sql">One row, one BIGINT column.</param>
/// <param name="Remedy">The settings that shrink the work.</param>
public sealed record WorkEstimate(string What, string Sql, string Remedy);

/// <summary>
/// A CF stage: a few helper tables before its output table (the last step), each one <c>SELECT</c>; facts afterwards.
/// The SQL is the definition. A stage may also have a C# kernel that the embedded engine runs instead
/// (<see cref="CfKernels.Use"/>), producing the same table; either way its work estimate is checked first.
/// </summary>
public abstract class MultiTableStage : IStage
{
    public abstract string Name { get; }
    public abstract string Description { get; }
    public abstract IReadOnlyList<string> Inputs { get; }
    public virtual bool IsOutput => false;
    public virtual IReadOnlyList<string> OutputOrder => [];
    public virtual IReadOnlyList<string> UserIdColumns => [];
    public virtual IReadOnlyList<UserIdMention> UserIdMentions => [];
    public virtual bool IsEnabled(StageContext context) => context.Settings.Recommend.Enabled;
    public virtual string DisabledReason(StageContext context) => "Recommend:Enabled=false";
    public virtual bool Reads(string input, StageContext context) => true;

    /// <summary>Prefix of the stage's facts (the published table's name, so reports find them whichever path ran).</summary>
    protected virtual string FactPrefix => Name;

    /// <summary>The steps in order as (table, SELECT); the last one produces <see cref="Name"/>.</summary>
    public abstract IReadOnlyList<(string Table, string Select)> Steps(StageContext c);

    /// <summary>Queries whose one-row results become facts on the SQL path; shown by <c>plan</c> too.</summary>
    public virtual IReadOnlyList<string> FactQueries(StageContext c) => [];

    /// <summary>The work estimate checked against Engine:MaxPairs before the steps run; null when the stage generates no pairs.</summary>
    public virtual WorkEstimate? Estimate(StageContext c) => null;

    /// <summary>Whether the stage has a C# kernel for the embedded engine.</summary>
    protected virtual bool HasKernel => false;

    public bool RunsKernel(IEngine engine, StageContext context) => HasKernel && CfKernels.Use(engine, context);

    /// <summary>Produces <see cref="Name"/> (same rows and types as the SQL) and the stage's facts; returns the row count.</summary>
    protected virtual Task<long> RunKernelAsync(IEngine engine, StageContext c, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{Name} has no kernel.");

    public IEnumerable<string> RenderSql(StageContext context)
    {
        var statements = new List<string>();
        if (Estimate(context) is { } estimate) statements.Add(estimate.Sql);
        statements.AddRange(Steps(context).SelectMany(s => context.Dialect.Materialize(s.Table, s.Select)));
        statements.AddRange(FactQueries(context));
        if (HasKernel) statements[0] = CfKernels.PlanNote(Name) + "\n" + statements[0];
        return statements;
    }

    public async Task<long> RunAsync(IEngine engine, StageContext context, CancellationToken cancellationToken)
    {
        // The table is made anew: any in-process copy of an earlier version is stale.
        context.InProcessTables.Remove(Name);
        if (Estimate(context) is { } estimate)
            await CfKernels.CheckBudgetAsync(engine, context, FactPrefix, estimate.What, estimate.Sql, estimate.Remedy, cancellationToken);
        long rows;
        if (HasKernel && CfKernels.Use(engine, context))
        {
            rows = await RunKernelAsync(engine, context, cancellationToken);
        }
        else
        {
            rows = 0;
            foreach (var (table, select) in Steps(context))
                rows = await engine.CreateTableAsync(table, select, cancellationToken);
            await RunFactQueriesAsync(engine, context, cancellationToken);
        }
        context.Facts[$"{FactPrefix}.rows"] = rows;
        return rows;
    }

    /// <summary>Runs <see cref="FactQueries"/> and records their one-row results as facts.</summary>
    protected async Task RunFactQueriesAsync(IEngine engine, StageContext context, CancellationToken cancellationToken)
    {
        foreach (var query in FactQueries(context))
        {
            var result = await engine.QueryAsync(query, cancellationToken);
            foreach (var (key, value) in result[0])
                context.Facts[$"{FactPrefix}.{key}"] = value is null ? 0L : Convert.ToInt64(value, CultureInfo.InvariantCulture);
        }
        OnFacts(context);
    }

    /// <summary>Called once the fact queries' results are in <see cref="StageContext.Facts"/> (e.g. to warn about them).</summary>
    protected virtual void OnFacts(StageContext context)
    {
    }
}
