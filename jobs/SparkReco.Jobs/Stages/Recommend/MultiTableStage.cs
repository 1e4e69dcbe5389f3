using SparkReco.Core.Engine;
using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>
/// A stage that materialises a few helper tables before its output table (the last step). Each step is one
/// <c>SELECT</c>; <see cref="ReportAsync"/> adds facts afterwards.
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
    public virtual bool IsEnabled(StageContext context) => true;

    /// <summary>The steps in order as (table, SELECT); the last one produces <see cref="Name"/>.</summary>
    public abstract IReadOnlyList<(string Table, string Select)> Steps(StageContext c);

    /// <summary>Queries whose one-row results become facts; shown by <c>plan</c> too.</summary>
    public virtual IReadOnlyList<string> FactQueries(StageContext c) => [];

    public IEnumerable<string> RenderSql(StageContext context) =>
        Steps(context).Select(s => $"CREATE OR REPLACE TABLE {context.Q(s.Table)} AS\n{s.Select}")
            .Concat(FactQueries(context));

    public async Task<long> RunAsync(IEngine engine, StageContext context, CancellationToken cancellationToken)
    {
        long rows = 0;
        foreach (var (table, select) in Steps(context))
            rows = await engine.CreateTableAsync(table, select, cancellationToken);
        foreach (var query in FactQueries(context))
        {
            var result = await engine.QueryAsync(query, cancellationToken);
            foreach (var (key, value) in result[0])
                context.Facts[$"{Name}.{key}"] = value is null ? 0L : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
        }
        context.Facts[$"{Name}.rows"] = rows;
        return rows;
    }
}
