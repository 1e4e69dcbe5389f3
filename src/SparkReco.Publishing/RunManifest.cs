using System.Text.Json;
using System.Text.Json.Serialization;

namespace SparkReco.Publishing;

/// <summary>What <c>manifest.json</c> says about a published run. Written last, before <c>_SUCCESS</c>.</summary>
public sealed record RunManifest
{
    public required string RunId { get; init; }
    public required DateTime StartedAt { get; init; }
    public required DateTime FinishedAt { get; init; }
    public required DateTime AsOf { get; init; }
    public required string ConfigHash { get; init; }
    public required string InputFingerprint { get; init; }
    public required string Engine { get; init; }
    public required IReadOnlyDictionary<string, string> Versions { get; init; }
    public required IReadOnlyDictionary<string, long> RowCounts { get; init; }

    /// <summary>Files published beside the tables (metrics.json, report.html, …).</summary>
    public IReadOnlyList<string> Files { get; init; } = [];
    public required IReadOnlyList<StageTiming> Stages { get; init; }
    public required IReadOnlyDictionary<string, object> Facts { get; init; }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static RunManifest? Read(string path) =>
        File.Exists(path) ? JsonSerializer.Deserialize<RunManifest>(File.ReadAllText(path), Json) : null;
}

public sealed record StageTiming(string Stage, long Rows, double Seconds);
