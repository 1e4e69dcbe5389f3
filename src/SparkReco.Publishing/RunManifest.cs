using System.Text.Json;
using System.Text.Json.Serialization;

namespace SparkReco.Publishing;

/// <summary>What <c>manifest.json</c> says about a published run. Written last, before <c>_SUCCESS</c>.</summary>
public sealed record RunManifest
{
    /// <summary>Only a complete run writes a manifest, so today this is always <see cref="Succeeded"/>; readers should still check it.</summary>
    public const string Succeeded = "succeeded";

    public string Status { get; init; } = Succeeded;
    public required string RunId { get; init; }
    public required DateTime StartedAt { get; init; }
    public required DateTime FinishedAt { get; init; }
    public required DateTime AsOf { get; init; }

    /// <summary>How <see cref="AsOf"/> was chosen: <c>configured</c> (Affinity:AsOf / --as-of) or <c>latest_event_time</c>.</summary>
    public string? AsOfSource { get; init; }

    /// <summary>Wall-clock seconds from the run's start to the manifest; per-stage seconds are in <see cref="Stages"/>.</summary>
    public double? TotalSeconds { get; init; }
    public required string ConfigHash { get; init; }
    public required string InputFingerprint { get; init; }
    public required string Engine { get; init; }
    public required IReadOnlyDictionary<string, string> Versions { get; init; }
    public required IReadOnlyDictionary<string, long> RowCounts { get; init; }

    /// <summary>Per input kind (events, items, follows): the checked files the run read. Null in manifests of older builds.</summary>
    public IReadOnlyDictionary<string, ManifestInput>? Inputs { get; init; }

    /// <summary>Per published table: where it is, its rows, bytes on disk and Parquet schema. Null in manifests of older builds.</summary>
    public IReadOnlyDictionary<string, ManifestTable>? Tables { get; init; }

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

/// <summary>One input of a run: the configured path (absolute), its Parquet files relative to it, their total size and footer rows.</summary>
public sealed record ManifestInput(string Path, IReadOnlyList<string> Files, long Bytes, long Rows);

/// <summary>One published table: its folder relative to the output, rows and bytes of its Parquet files, and their schema.</summary>
public sealed record ManifestTable(string Path, long Rows, long Bytes, IReadOnlyList<ManifestColumn> Schema);

/// <summary>A column of a published table, with its Parquet type (see <see cref="PublishedTables"/>).</summary>
public sealed record ManifestColumn(string Name, string Type);
