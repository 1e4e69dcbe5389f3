using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;
using SparkReco.Publishing;

namespace SparkReco.EndToEnd.Tests;

/// <summary>
/// The manifest of a real run states what is on disk: its table facts are checked against DuckDB reading the published
/// Parquet (a reader independent of the one the job uses to describe them) and against the file system.
/// </summary>
public sealed class ManifestTests : IDisposable
{
    private readonly TempDirectory _work = new();

    public void Dispose() => _work.Dispose();

    [Fact]
    public async Task Manifest_of_a_run_describes_its_inputs_and_published_tables_as_they_are_on_disk()
    {
        var generate = await CliProcess.RunAsync(_work.Path, "generate", "--output", "data", "--events", "20000", "--users", "300", "--items", "200");
        Assert.True(generate.ExitCode == 0, generate.Error);
        var run = await CliProcess.RunAsync(_work.Path, "run", "--events", "data/events", "--items", "data/items",
            "--output", "output", "--set", "Clean:BotMaxEventsPerUser=2000");
        Assert.True(run.ExitCode == 0, run.Error);

        var manifest = RunManifest.Read(_work.Combine("output", "manifest.json"))!;
        Assert.Equal("succeeded", manifest.Status);
        Assert.Equal("latest_event_time", manifest.AsOfSource);
        Assert.Equal(["dotnet", "engine", "sparkreco"], manifest.Versions.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(Environment.Version.ToString(), manifest.Versions["dotnet"]);
        Assert.StartsWith("DuckDB v", manifest.Versions["engine"], StringComparison.Ordinal);
        // The total covers every stage. Independent stages may overlap (Engine:ConcurrentStages), so it is at least the
        // longest stage, and at least the sum of the stages of one dependency chain (clean_events → affinity → segments input).
        Assert.True(manifest.TotalSeconds >= manifest.Stages.Max(s => s.Seconds) - 0.01, $"total {manifest.TotalSeconds} s < the longest stage");
        var chain = manifest.Stages.Where(s => s.Stage is "validate_rows" or "clean_events" or "affinity").Sum(s => s.Seconds);
        Assert.True(manifest.TotalSeconds >= chain - 0.01, $"total {manifest.TotalSeconds} s < validate_rows + clean_events + affinity ({chain} s), which run one after another");

        // Inputs: the files the run read, relative to the configured folder, with their sizes and footer rows.
        Assert.Equal(["events", "items"], manifest.Inputs!.Keys.Order(StringComparer.Ordinal));
        foreach (var (kind, input) in manifest.Inputs)
        {
            var folder = _work.Combine("data", kind);
            Assert.Equal(Path.GetFullPath(folder), input.Path);
            var onDisk = Directory.GetFiles(folder, "*.parquet", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(folder, f)).Order(StringComparer.Ordinal);
            Assert.Equal(onDisk, input.Files);
            Assert.Equal(input.Files.Sum(f => new FileInfo(Path.Combine(folder, f)).Length), input.Bytes);
            Assert.Equal(CountRows(Path.Combine(folder, "**", "*.parquet")), input.Rows);
        }

        // Tables: every published table, with rows, bytes and schema as a reader finds them.
        Assert.Equal(manifest.RowCounts.Keys, manifest.Tables!.Keys);
        foreach (var (name, table) in manifest.Tables)
        {
            var folder = Path.Combine(_work.Combine("output"), table.Path);
            Assert.True(Directory.Exists(folder), $"{name}: '{table.Path}' is not a folder of the output");
            var files = Directory.GetFiles(folder, "*.parquet", SearchOption.AllDirectories);
            var glob = Path.Combine(folder, "*.parquet");
            Assert.Equal(CountRows(glob), table.Rows);
            Assert.Equal(manifest.RowCounts[name], table.Rows);
            Assert.Equal(files.Sum(f => new FileInfo(f).Length), table.Bytes);
            Assert.Equal(DescribeWithDuckDb(glob), table.Schema.Select(c => (c.Name, c.Type)).ToList());
        }
        Assert.Contains("affinity", manifest.Tables.Keys);
        Assert.Contains(manifest.Tables["affinity"].Schema, c => c is { Name: "last_event_time", Type: "timestamp" });

        // The manifest is documented field by field: every top-level field it writes has a row in the README's table.
        var readme = await File.ReadAllTextAsync(FindReadme());
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(_work.Combine("output", "manifest.json")));
        foreach (var field in json.RootElement.EnumerateObject())
            Assert.Contains($"| `{field.Name}`", readme, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Manifest_says_a_configured_as_of_was_configured()
    {
        Assert.Equal(0, (await CliProcess.RunAsync(_work.Path, "generate", "--output", "data", "--events", "3000", "--users", "60", "--items", "40")).ExitCode);
        var run = await CliProcess.RunAsync(_work.Path, "run", "--events", "data/events", "--output", "output", "--as-of", "2026-11-01T00:00:00Z");
        Assert.True(run.ExitCode == 0, run.Error);

        var manifest = RunManifest.Read(_work.Combine("output", "manifest.json"))!;
        Assert.Equal("configured", manifest.AsOfSource);
        Assert.Equal(new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc), manifest.AsOf.ToUniversalTime());
        Assert.Equal(["events"], manifest.Inputs!.Keys);
    }

    private static long CountRows(string glob)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM read_parquet('{glob.Replace("'", "''", StringComparison.Ordinal)}')";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>The Parquet schema as DuckDB reads it, in the manifest's type words.</summary>
    private static List<(string Name, string Type)> DescribeWithDuckDb(string glob)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"DESCRIBE SELECT * FROM read_parquet('{glob.Replace("'", "''", StringComparison.Ordinal)}')";
        using var reader = command.ExecuteReader();
        var columns = new List<(string, string)>();
        while (reader.Read()) columns.Add((reader.GetString(0), ManifestType(reader.GetString(1))));
        return columns;
    }

    private static string ManifestType(string duckDb) => duckDb switch
    {
        "VARCHAR" => "string",
        "BIGINT" => "int64",
        "INTEGER" => "int32",
        "SMALLINT" => "int16",
        "DOUBLE" => "double",
        "FLOAT" => "float",
        "BOOLEAN" => "boolean",
        "DATE" => "date",
        "BLOB" => "binary",
        "TIMESTAMP" or "TIMESTAMP WITH TIME ZONE" => "timestamp",
        _ when duckDb.EndsWith("[]", StringComparison.Ordinal) => $"list<{ManifestType(duckDb[..^2])}>",
        _ when duckDb.StartsWith("DECIMAL", StringComparison.Ordinal) => "decimal",
        _ => duckDb,
    };

    private static DuckDBConnection Open()
    {
        var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        return connection;
    }

    private static string FindReadme()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SparkReco.sln"))) return Path.Combine(dir.FullName, "README.md");
        throw new FileNotFoundException("README.md not found above the test binaries (looked for SparkReco.sln)");
    }
}
