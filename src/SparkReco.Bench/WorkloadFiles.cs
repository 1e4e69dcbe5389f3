using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;

namespace SparkReco.Bench;

/// <summary>What <c>facts.json</c> beside a workload's <c>events/</c> says: how it was made, its fingerprint and its facts.</summary>
public sealed record WorkloadRecord
{
    public required string Name { get; init; }
    public required string Description { get; init; }
    public required string Events { get; init; }

    /// <summary>The SQL that made the events (empty for inputs made by another tool).</summary>
    public required string Definition { get; init; }
    public required string DuckdbVersion { get; init; }

    /// <summary>SHA-256 over the events files (relative name and bytes, in name order).</summary>
    public required string Sha256 { get; init; }
    public required long Bytes { get; init; }
    public double? GenerateSeconds { get; init; }
    public required double FactsSeconds { get; init; }
    public required EventFacts Facts { get; init; }

    /// <summary>For workload M: whether every fact equals shared/bench/workload-m.md; null where there is no reference.</summary>
    public bool? ReferenceMatch { get; init; }
    public IReadOnlyList<string> ReferenceMismatches { get; init; } = [];

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };
}

/// <summary>Makes, fingerprints and describes workload event files, reusing them while their fingerprint holds.</summary>
public static class WorkloadFiles
{
    public const string FactsFile = "facts.json";

    /// <summary>Generates workload <paramref name="workload"/> into <c>DIR/events/</c> unless an identical one is there, then prints its facts.</summary>
    public static WorkloadRecord Ensure(Workload workload, string directory, int cap, bool force, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(output);
        var eventsDir = Path.Combine(directory, "events");
        var factsPath = Path.Combine(directory, FactsFile);
        var definition = Definition(workload, "events/part-00000.parquet");

        if (!force && TryReuse(factsPath, eventsDir, definition, cap) is { } cached)
        {
            Print(cached, cached: true, output);
            return cached;
        }

        Directory.CreateDirectory(directory);
        if (Directory.Exists(eventsDir)) Directory.Delete(eventsDir, recursive: true);
        File.Delete(factsPath);
        Directory.CreateDirectory(eventsDir);
        var file = Path.Combine(eventsDir, "part-00000.parquet");
        var temp = file + ".tmp";

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"workload {workload.Name}: generating {workload.Rows:N0} events into {eventsDir} (DuckDB, one thread) …"));
        using var connection = Open(directory);
        var watch = Stopwatch.StartNew();
        EventFacts.Execute(connection, "SET threads = 1");
        EventFacts.Execute(connection, $"SELECT setseed({Workload.Seed})");
        EventFacts.Execute(connection, $"COPY (\n{workload.SelectSql}\n) TO {Literal(temp)} (FORMAT parquet)");
        File.Move(temp, file, overwrite: true);
        var generateSeconds = watch.Elapsed.TotalSeconds;
        EventFacts.Execute(connection, "RESET threads");

        var record = Describe(connection, workload.Name, workload.Description, eventsDir, definition, cap) with { GenerateSeconds = generateSeconds };
        Write(factsPath, record);
        Print(record, cached: false, output);
        return record;
    }

    /// <summary>Describes an events input made elsewhere (workload S, by <c>sparkreco generate</c>), reusing facts.json while its fingerprint holds.</summary>
    public static WorkloadRecord Describe(string name, string description, string events, string factsPath, int cap, bool force, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!force && TryReuse(factsPath, events, definition: "", cap) is { } cached)
        {
            Print(cached, cached: true, output);
            return cached;
        }
        using var connection = Open(Path.GetDirectoryName(Path.GetFullPath(factsPath))!);
        var record = Describe(connection, name, description, events, definition: "", cap);
        Write(factsPath, record);
        Print(record, cached: false, output);
        return record;
    }

    private static WorkloadRecord Describe(DuckDBConnection connection, string name, string description, string events, string definition, int cap)
    {
        var watch = Stopwatch.StartNew();
        var facts = EventFacts.Compute(connection, Source(events), cap);
        var factsSeconds = watch.Elapsed.TotalSeconds;
        var (sha, bytes) = Fingerprint(events);
        var mismatches = new List<string>();
        bool? match = null;
        if (string.Equals(name, "M", StringComparison.Ordinal))
        {
            foreach (var (key, label, value) in facts.Lines)
            {
                if (EventFacts.WorkloadMReference.TryGetValue(key, out var expected) && expected != value)
                    mismatches.Add(string.Create(CultureInfo.InvariantCulture, $"{label}: {value:N0}, workload-m.md says {expected:N0}"));
            }
            match = mismatches.Count == 0;
        }
        return new WorkloadRecord
        {
            Name = name,
            Description = description,
            Events = events,
            Definition = definition,
            DuckdbVersion = Version(connection),
            Sha256 = sha,
            Bytes = bytes,
            FactsSeconds = factsSeconds,
            Facts = facts,
            ReferenceMatch = match,
            ReferenceMismatches = mismatches,
        };
    }

    /// <summary>The whole recipe, as a DuckDB console would run it.</summary>
    public static string Definition(Workload workload, string target)
    {
        ArgumentNullException.ThrowIfNull(workload);
        return $"SET threads = 1;\nSELECT setseed({Workload.Seed});\nCOPY (\n{workload.SelectSql}\n) TO {Literal(target)} (FORMAT parquet);";
    }

    private static WorkloadRecord? TryReuse(string factsPath, string events, string definition, int cap)
    {
        if (!File.Exists(factsPath) || !Path.Exists(events)) return null;
        WorkloadRecord? record;
        try
        {
            record = JsonSerializer.Deserialize<WorkloadRecord>(File.ReadAllText(factsPath), WorkloadRecord.Json);
        }
        catch (JsonException)
        {
            return null;
        }
        if (record is null || record.Definition != definition || record.Facts.Cap != cap) return null;
        return Fingerprint(events).Sha256 == record.Sha256 ? record : null;
    }

    private static DuckDBConnection Open(string directory)
    {
        var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        // Never reach the network; spill beside the workload rather than into the system temp folder.
        EventFacts.Execute(connection, "SET autoinstall_known_extensions = false");
        EventFacts.Execute(connection, "SET autoload_known_extensions = false");
        EventFacts.Execute(connection, "SET preserve_insertion_order = true");
        // The machine is shared with the job being measured: a modest limit, spilling beyond it.
        EventFacts.Execute(connection, "SET memory_limit = '4GB'");
        EventFacts.Execute(connection, $"SET temp_directory = {Literal(Path.Combine(Path.GetFullPath(directory), ".duckdb-tmp"))}");
        return connection;
    }

    private static string Version(DuckDBConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT version()";
        return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture) ?? "unknown";
    }

    private static string Source(string events) =>
        Directory.Exists(events)
            ? $"read_parquet({Literal(Path.Combine(Path.GetFullPath(events), "**", "*.parquet"))})"
            : $"read_parquet({Literal(Path.GetFullPath(events))})";

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static IEnumerable<string> Files(string events) =>
        Directory.Exists(events)
            ? Directory.EnumerateFiles(events, "*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            : [events];

    private static (string Sha256, long Bytes) Fingerprint(string events)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var root = Directory.Exists(events) ? Path.GetFullPath(events) : Path.GetDirectoryName(Path.GetFullPath(events))!;
        long bytes = 0;
        var buffer = new byte[1 << 20];
        foreach (var file in Files(events))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(root, file).Replace('\\', '/') + "\n"));
            using var stream = File.OpenRead(file);
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                bytes += read;
            }
        }
        return (Convert.ToHexStringLower(hash.GetHashAndReset()), bytes);
    }

    private static void Write(string path, WorkloadRecord record)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(record, WorkloadRecord.Json) + "\n");
        File.Move(temp, path, overwrite: true);
    }

    private static void Print(WorkloadRecord record, bool cached, TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        var made = record.GenerateSeconds is { } g ? string.Create(inv, $", generated in {g:F1} s") : "";
        output.WriteLine(string.Create(inv, $"workload {record.Name}: {record.Description}"));
        output.WriteLine(string.Create(inv, $"  events  {record.Events} ({record.Bytes / 1048576.0:F1} MiB{made}; {(cached ? "cached, fingerprint checked" : string.Create(inv, $"facts in {record.FactsSeconds:F1} s"))})"));
        output.WriteLine(string.Create(inv, $"  sha256  {record.Sha256}  ({record.DuckdbVersion})"));
        var reference = record.ReferenceMatch is null ? null : EventFacts.WorkloadMReference;
        foreach (var (key, label, value) in record.Facts.Lines)
        {
            var note = reference is not null && reference.TryGetValue(key, out var expected)
                ? expected == value ? "  = workload-m.md" : string.Create(inv, $"  MISMATCH: workload-m.md says {expected:N0}")
                : "";
            output.WriteLine(string.Create(inv, $"  {label,-46} {value,16:N0}{note}"));
        }
        if (record.ReferenceMatch == true) output.WriteLine("  => this is the reference data of shared/bench/workload-m.md");
        if (record.ReferenceMatch == false) output.WriteLine("  => WARNING: NOT the reference data of shared/bench/workload-m.md; figures are not comparable with the issue's");
    }
}
