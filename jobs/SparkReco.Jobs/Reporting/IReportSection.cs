using SparkReco.Core.Stages;
using SparkReco.Jobs.Running;

namespace SparkReco.Jobs.Reporting;

/// <summary>
/// One part of report.html. Sections appear in <see cref="Order"/>. A section declares the small aggregates it reads from
/// the engine (<see cref="Queries"/>, which <c>plan</c> prints too) and renders from their rows and the run's typed results.
/// </summary>
public interface IReportSection
{
    int Order { get; }

    bool IsEnabled(StageContext context) => true;

    /// <summary>The queries the section runs, in order; their rows reach <see cref="Render"/> in the same order.</summary>
    IReadOnlyList<string> Queries(StageContext context) => [];

    /// <summary>An HTML fragment, usually built with <see cref="Html"/>.</summary>
    string Render(StageContext context, RunSummary summary, IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<string, object?>>> rows);

    /// <summary>
    /// What the section tells developers only (timings, internal counters, settings, raw model figures): an HTML fragment for
    /// the report's appendix, after every section's main part; empty when there is nothing.
    /// </summary>
    string Appendix(StageContext context, RunSummary summary, IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<string, object?>>> rows) => "";
}
