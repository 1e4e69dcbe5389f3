using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace SparkReco.Core.Configuration;

/// <summary>
/// Every setting of a run, read once and validated before any work starts. Each section reads
/// its own keys (with defaults and descriptions) so adding a stage means adding a section here.
/// </summary>
public sealed record JobSettings(
    InputSettings Input,
    OutputSettings Output,
    EngineSettings Engine,
    CleanSettings Clean,
    AffinitySettings Affinity,
    SimilaritySettings Similarity,
    EaseSettings Ease,
    NeighborSettings Neighbors,
    RecommendSettings Recommend,
    EvaluationSettings Evaluation,
    FeatureSettings Features,
    SegmentSettings Segments,
    ScoreSettings Scores,
    PrivacySettings Privacy)
{
    public static JobSettings Read(IConfiguration configuration)
    {
        var reader = new SettingsReader(configuration);
        var settings = Read(reader);
        reader.ThrowIfInvalid();
        return settings;
    }

    /// <summary>All settings with defaults and descriptions (read from an empty configuration).</summary>
    public static IReadOnlyCollection<SettingInfo> Describe()
    {
        var reader = new SettingsReader(new ConfigurationBuilder().Build());
        Read(reader);
        return reader.Known;
    }

    private static JobSettings Read(SettingsReader r)
    {
        var input = InputSettings.Read(r);
        var output = OutputSettings.Read(r);
        var engine = EngineSettings.Read(r);
        var clean = CleanSettings.Read(r);
        var affinity = AffinitySettings.Read(r);
        var similarity = SimilaritySettings.Read(r);
        var ease = EaseSettings.Read(r);
        var neighbors = NeighborSettings.Read(r);
        var recommend = RecommendSettings.Read(r);
        var evaluation = EvaluationSettings.Read(r);
        if (!recommend.Enabled && evaluation.Mode != "none")
            r.Problem($"setting 'Evaluation:Mode' is '{evaluation.Mode}' but 'Recommend:Enabled' is false; evaluation needs the recommenders, so enable them or set the mode to none.");
        var features = FeatureSettings.Read(r);
        var segments = SegmentSettings.Read(r);
        var scores = ScoreSettings.Read(r);
        var privacy = PrivacySettings.Read(r);
        output = output.ForAsOf(affinity.AsOf, r);
        return new JobSettings(input, output, engine, clean, affinity, similarity, ease, neighbors, recommend, evaluation, features, segments, scores, privacy);
    }

    /// <summary>SHA-256 of the effective settings, so a manifest says exactly which configuration made it.</summary>
    public string Hash()
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(this);
        return Convert.ToHexStringLower(SHA256.HashData(json));
    }

    public override string ToString() => Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(this));
}

/// <summary>Where the input lives and how its columns are named.</summary>
public sealed record InputSettings(string? Events, string? Items, string? Follows, ColumnMapping Columns)
{
    public static InputSettings Read(SettingsReader r) => new(
        r.GetOptionalString("Input:Events", "Engagement events: a Parquet file, a folder of part files or Hive-style partitions (required for run and validate)."),
        r.GetOptionalString("Input:Items", "Optional item metadata (item_id, category, creator_id) as Parquet."),
        r.GetOptionalString("Input:Follows", "Optional follow graph (follower_id, followee_id) as Parquet."),
        ColumnMapping.Read(r));
}

/// <summary>Maps contract column names to the names used in the user's files.</summary>
public sealed record ColumnMapping(
    string UserId, string ItemId, string EventType, string EventTime, string Weight,
    string Category, string CreatorId, string FollowerId, string FolloweeId)
{
    public static ColumnMapping Read(SettingsReader r)
    {
        string Col(string name, string contract, string file) =>
            r.GetString($"Input:Columns:{name}", contract, $"Name of the column holding `{contract}` in the {file}.");
        return new ColumnMapping(
            Col("UserId", "user_id", "events file"),
            Col("ItemId", "item_id", "events and items files"),
            Col("EventType", "event_type", "events file"),
            Col("EventTime", "event_time", "events file"),
            Col("Weight", "weight", "events file (optional column)"),
            Col("Category", "category", "items file"),
            Col("CreatorId", "creator_id", "items file (optional column)"),
            Col("FollowerId", "follower_id", "follows file"),
            Col("FolloweeId", "followee_id", "follows file"));
    }
}

public sealed record OutputSettings(string Path, string Compression = "zstd")
{
    /// <summary>Parquet codecs both engines write (DuckDB's COPY and Spark's parquet writer).</summary>
    public static readonly string[] Codecs = ["zstd", "snappy", "gzip", "uncompressed"];

    /// <summary>The tokens a dated output layout may use in Output:Path.</summary>
    public const string AsOfDate = "{as_of}", AsOfTime = "{as_of_time}";

    public static OutputSettings Read(SettingsReader r) => new(
        r.GetString("Output:Path", "output",
            $"Folder that receives one sub-folder of Parquet per table, manifest.json and _SUCCESS. {AsOfDate} (yyyy-MM-dd) and {AsOfTime} (yyyyMMddTHHmmssZ) " +
            "are replaced by the run's as_of (needs Affinity:AsOf / --as-of), e.g. output/as_of={as_of}, so a backfill writes its own folder."),
        r.GetString("Output:Compression", "zstd",
            "Codec of the published Parquet files: zstd (smallest, read by Spark 3.x+, DuckDB, pandas/pyarrow), snappy (for older readers), gzip, or uncompressed.",
            Codecs));

    /// <summary>
    /// Output:Path with the as_of tokens replaced. They need the as_of known before the job reads any data (the output
    /// folder is locked before the engine starts), so a templated path without Affinity:AsOf is a setting error.
    /// </summary>
    public OutputSettings ForAsOf(DateTime? asOf, SettingsReader r)
    {
        if (!Path.Contains(AsOfDate, StringComparison.Ordinal) && !Path.Contains(AsOfTime, StringComparison.Ordinal)) return this;
        if (asOf is not { } t)
        {
            r.Problem($"setting 'Output:Path' ('{Path}') uses {AsOfDate} or {AsOfTime} but 'Affinity:AsOf' is empty; give the run's time with --as-of (schedulers pass the window's end), or remove the token.");
            return this;
        }
        var utc = t.ToUniversalTime();
        return this with
        {
            Path = Path
            .Replace(AsOfDate, utc.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace(AsOfTime, utc.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal),
        };
    }
}

public sealed record EngineSettings(string Kind, int Threads, string? MemoryLimit, string? TempDirectory, string Kernels = "auto", long MaxPairs = 20_000_000_000, string? SparkRemote = null, int ConcurrentStages = 2)
{
    /// <summary>Engines a setting may name: the embedded DuckDB, or a Spark cluster through Spark Connect (<c>Engine:SparkRemote</c>).</summary>
    public static readonly string[] Kinds = ["duckdb", "spark"];

    public static readonly string[] KernelModes = ["auto", "off"];

    /// <summary>Share of the machine's memory the embedded engine may use when Engine:MemoryLimit is empty.</summary>
    public const double DefaultMemoryShare = 0.3;

    /// <summary>A size as DuckDB reads it (KB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB of 1024), in bytes; null when it is not one.</summary>
    public static long? Bytes(string size)
    {
        ArgumentNullException.ThrowIfNull(size);
        var m = System.Text.RegularExpressions.Regex.Match(size.Trim(), @"^(\d+(?:\.\d+)?)\s*(B|[KMGT]B|[KMGT]iB)$", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        if (!m.Success) return null;
        var unit = m.Groups[2].Value.ToUpperInvariant();
        var factor = Math.Pow(unit.Contains('I', StringComparison.Ordinal) ? 1024 : 1000, "BKMGT".IndexOf(unit[0], StringComparison.Ordinal));
        return (long)(double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) * factor);
    }

    public static EngineSettings Read(SettingsReader r)
    {
        var kind = r.GetString("Engine:Kind", "duckdb", "Engine that runs the stages: duckdb (embedded), or spark (a Spark 3.5/4.x cluster through Spark Connect at Engine:SparkRemote; `plan --engine spark` prints its SQL without a server).", Kinds);
        var threads = r.GetInt("Engine:Threads", 0, "DuckDB worker threads and kernel threads; 0 = one per core.", 0, 1024);
        var memory = r.GetOptionalString("Engine:MemoryLimit",
            "DuckDB memory limit such as 8GB; empty = 30% of the machine's memory (DuckDB's own default of 80% leaves too little for the kernels and ML.NET in the same process). Joins and aggregates beyond it spill to TempDirectory, given about 128 MiB per DuckDB thread: a smaller limit runs DuckDB on fewer threads (logged), because below that an aggregate fails instead of spilling (measured: 2M generated events at 200MB fail with 2 threads and run with 1). Very small limits still fail (the same data at 100MB), with a message naming this setting.");
        if (memory is not null && Bytes(memory) is null)
            r.Problem("Engine:MemoryLimit", memory, "a size such as 512MB or 8GB");
        var temp = r.GetOptionalString("Engine:TempDirectory", "Folder for the engine's spill files (the embedded database lives in memory and spills there beyond Engine:MemoryLimit); empty = a folder under the system temp directory.");
        var kernels = r.GetString("Engine:Kernels", "auto",
            "How the embedded engine runs the collaborative-filtering products (item co-occurrence and similarity, user neighbours, candidate scoring): auto = C# sparse top-K kernels, identical results to the SQL and much faster; off = the stage SQL (what Spark runs).",
            KernelModes);
        var maxPairs = (long)r.GetDouble("Engine:MaxPairs", 20e9,
            "Work budget checked before the collaborative-filtering products run: the largest number of pair updates (item pairs from baskets, user pairs from the item index, candidate contributions) a stage may need; above it the run stops and names the settings that shrink the work.",
            1, 1e15);
        var remote = r.GetOptionalString("Engine:SparkRemote",
            "Spark Connect server for Engine:Kind=spark, as sc://host:port/;use_ssl=true;user_id=NAME (port 15002 when left out; also --spark-remote). A token never goes here: it is read from the environment variable SPARKRECO_SPARK_TOKEN.");
        if (remote is not null && !remote.StartsWith("sc://", StringComparison.OrdinalIgnoreCase))
            r.Problem($"setting 'Engine:SparkRemote' is '{remote}'; a Spark Connect address starts with sc:// (e.g. sc://spark-connect.example.com:15002/;use_ssl=true).");
        else if (remote is not null && System.Text.RegularExpressions.Regex.IsMatch(remote, @";\s*token\s*=", System.Text.RegularExpressions.RegexOptions.IgnoreCase))
            r.Problem("setting 'Engine:SparkRemote' carries a token (;token=…); configuration files and command lines get committed and logged, so the token is read only from the environment variable SPARKRECO_SPARK_TOKEN. Remove ';token=…' and set SPARKRECO_SPARK_TOKEN.");
        var concurrent = r.GetInt("Engine:ConcurrentStages", 2,
            "Stages of the embedded engine that may run at the same time when neither reads the other's table (e.g. segments and user_scores beside the collaborative-filtering stages), each on its own connection to the same database; 1 = one after another. Results are the same either way. The Spark engine runs one stage at a time.",
            1, 8);
        return new EngineSettings(kind, threads, memory, temp, kernels, maxPairs, remote, concurrent);
    }
}

public sealed record CleanSettings(string UnknownEventTypes, string InvalidRows, int BotMaxEventsPerUser, int LookbackDays)
{
    public static readonly string[] Policies = ["fail", "drop"];

    public static CleanSettings Read(SettingsReader r) => new(
        r.GetString("Clean:UnknownEventTypes", "fail", "Events whose type has no weight in Affinity:EventWeights: fail the run, or drop and count them.", Policies),
        r.GetString("Clean:InvalidRows", "fail", "Rows with a null key or time, a time before 1990 or in the future, or a negative/NaN weight: fail the run, or drop and count them.", Policies),
        r.GetInt("Clean:BotMaxEventsPerUser", 0, "Users with more events than this in the window are treated as bots and removed; 0 = off.", 0),
        r.GetInt("Clean:LookbackDays", 0, "Only events in (as_of - LookbackDays, as_of] are used; 0 = all history.", 0));
}

public sealed record AffinitySettings(DateTime? AsOf, double HalfLifeDays, IReadOnlyDictionary<string, double> EventWeights, string WeightTransform)
{
    public static readonly string[] WeightTransforms = ["none", "log1p"];

    public static readonly IReadOnlyDictionary<string, double> DefaultWeights =
        new SortedDictionary<string, double>(StringComparer.Ordinal) { ["view"] = 1, ["like"] = 2, ["comment"] = 3, ["share"] = 4 };

    public static AffinitySettings Read(SettingsReader r)
    {
        var asOf = r.GetTimestamp("Affinity:AsOf", "Reference time of the run (ISO-8601, UTC). Fixing it makes reruns identical; empty = the latest event time in the input.");
        var halfLife = r.GetDouble("Affinity:HalfLifeDays", 30, "An event's weight halves every this many days before as_of.", 0.001, 100_000);
        var weights = r.GetDoubleMap("Affinity:EventWeights", DefaultWeights, "Weight of each event type; the keys are the known event types.", 0, 1e6);
        if (weights.Count == 0) r.Problem("setting 'Affinity:EventWeights' is empty; give at least one event type with a weight, e.g. \"view\": 1.");
        var transform = r.GetString("Affinity:WeightTransform", "none",
            "How the events' weight column enters affinity: none = as is; log1p = ln(1 + weight), for heavy-tailed counts such as plays.", WeightTransforms);
        return new AffinitySettings(asOf, halfLife, weights, transform);
    }
}
