using SparkReco.Core.Engine;
using SparkReco.Core.Stages;
using SparkReco.Publishing;

namespace SparkReco.Jobs.Running;

/// <summary>
/// A file published beside the tables (metrics.json, report.html). Written into the staging folder
/// after all tables, so it can describe them; published atomically with them.
/// </summary>
public interface IRunArtifact
{
    string FileName { get; }

    bool IsEnabled(StageContext context) => true;

    Task WriteAsync(IEngine engine, StageContext context, RunSummary summary, string path, CancellationToken cancellationToken);
}

/// <summary>What a run did, for artifacts and the manifest.</summary>
public sealed record RunSummary(
    string RunId,
    DateTime StartedAt,
    DateTime AsOf,
    string Engine,
    IReadOnlyList<StageTiming> Stages,
    IReadOnlyDictionary<string, long> OutputRows,
    IReadOnlyDictionary<string, long> InputRows);
