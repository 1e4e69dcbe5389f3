using SparkReco.Core.Engine;
using SparkReco.Core.Stages;
using SparkReco.Jobs.Running;

namespace SparkReco.Jobs.Reporting;

/// <summary>One part of report.html. Sections appear in <see cref="Order"/>; a section may query small aggregates from the engine.</summary>
public interface IReportSection
{
    int Order { get; }

    bool IsEnabled(StageContext context) => true;

    /// <summary>An HTML fragment, usually built with <see cref="Html"/>.</summary>
    Task<string> RenderAsync(IEngine engine, StageContext context, RunSummary summary, CancellationToken cancellationToken);
}
