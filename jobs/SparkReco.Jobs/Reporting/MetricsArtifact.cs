using System.Text.Json;
using SparkReco.Core.Engine;
using SparkReco.Core.Stages;
using SparkReco.Jobs.Running;

namespace SparkReco.Jobs.Reporting;

/// <summary>metrics.json: the run's quality figures (context.Metrics) for machines and dashboards.</summary>
public sealed class MetricsArtifact : IRunArtifact
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public string FileName => "metrics.json";

    public bool IsEnabled(StageContext context) => context.Metrics.Count > 0;

    public Task WriteAsync(IEngine engine, StageContext context, RunSummary summary, string path, CancellationToken cancellationToken) =>
        File.WriteAllTextAsync(path, JsonSerializer.Serialize(new { run_id = summary.RunId, as_of = summary.AsOf, metrics = context.Metrics }, Json), cancellationToken);
}
