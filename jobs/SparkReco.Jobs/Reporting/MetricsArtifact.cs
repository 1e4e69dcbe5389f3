using System.Text.Json;
using System.Text.Json.Serialization;
using SparkReco.Core.Engine;
using SparkReco.Core.Stages;
using SparkReco.Jobs.Evaluation;
using SparkReco.Jobs.Running;
using SparkReco.Jobs.Stages.Modelling;

namespace SparkReco.Jobs.Reporting;

/// <summary>metrics.json: the run's typed quality figures (evaluation, propensity, segments) for machines and dashboards.</summary>
public sealed class MetricsArtifact : IRunArtifact
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string FileName => "metrics.json";

    public bool IsEnabled(StageContext context) => Collect(context).Count > 0;

    public Task WriteAsync(IEngine engine, StageContext context, RunSummary summary, string path, CancellationToken cancellationToken) =>
        File.WriteAllTextAsync(path, Serialize(summary.RunId, summary.AsOf, context), cancellationToken);

    /// <summary>The file's text: run id, as_of and each producer's figures under its name, names in order.</summary>
    public static string Serialize(string runId, DateTime asOf, StageContext context) =>
        JsonSerializer.Serialize(new { run_id = runId, as_of = asOf, metrics = Collect(context) }, Json);

    private static SortedDictionary<string, object> Collect(StageContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var metrics = new SortedDictionary<string, object>(StringComparer.Ordinal);
        if (context.Results.Find<EvaluationMetrics>() is { } evaluation) metrics["evaluation"] = evaluation;
        if (context.Results.Find<PropensityMetrics>() is { } propensity) metrics["propensity"] = propensity;
        if (context.Results.Find<SegmentMetrics>() is { } segments) metrics["segments"] = segments;
        return metrics;
    }
}
