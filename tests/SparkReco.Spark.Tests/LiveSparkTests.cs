using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Parquet;
using SparkReco.Cli;
using SparkReco.Core.Configuration;
using SparkReco.Generator;
using SparkReco.Jobs.Running;
using SparkReco.Publishing;
using Xunit.Abstractions;

namespace SparkReco.Spark.Tests;

/// <summary>A test that runs only against a real Spark Connect server; without one it is reported as skipped, never passed.</summary>
public sealed class LiveSparkFactAttribute : FactAttribute
{
    public const string RemoteVariable = "SPARKRECO_SPARK_REMOTE";

    public LiveSparkFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(RemoteVariable)))
            Skip = $"live Spark suite: set {RemoteVariable}=sc://host:15002 (scripts/spark-connect-server.sh start) to run it";
    }
}

/// <summary>
/// The whole job on generated data, once on DuckDB and once on a real Spark through Spark Connect, and every published
/// table compared: the same rows, doubles within 1e-9. Opt-in (<c>SPARKRECO_SPARK_REMOTE</c>); the server must see the
/// test's folders at the same paths (a local server, or <c>SPARKRECO_SPARK_SHARED_DIR</c> on a shared mount).
/// </summary>
public sealed class LiveSparkTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-9;

    [LiveSparkFact]
    public async Task The_whole_job_on_spark_publishes_the_same_tables_as_on_duckdb()
    {
        var shared = Environment.GetEnvironmentVariable("SPARKRECO_SPARK_SHARED_DIR");
        var root = Path.Combine(string.IsNullOrEmpty(shared) ? Path.GetTempPath() : shared, "sparkreco-live-" + Guid.NewGuid().ToString("N")[..10]);
        try
        {
            await SyntheticGenerator.GenerateAsync(
                new GeneratorOptions(Path.Combine(root, "data"), Events: 20_000, Users: 400, Items: 150, Communities: 5, Categories: 8, Seed: 7, Days: 35, Bots: 2),
                progress: null, CancellationToken.None);
            JobSettings Settings(string engine, string folder) => SettingsLoader.Load(null, new Dictionary<string, string?>
            {
                ["Input:Events"] = Path.Combine(root, "data", "events"),
                ["Input:Items"] = Path.Combine(root, "data", "items"),
                ["Input:Follows"] = Path.Combine(root, "data", "follows"),
                ["Output:Path"] = Path.Combine(root, folder),
                ["Affinity:AsOf"] = "2026-11-01T00:00:00Z",
                ["Evaluation:Mode"] = "temporal",
                ["Engine:Kind"] = engine,
                ["Engine:SparkRemote"] = Environment.GetEnvironmentVariable(LiveSparkFactAttribute.RemoteVariable),
            });
            var duck = await new JobRunner(Settings("duckdb", "out-duckdb"), Engines.Factory(NullLoggerFactory.Instance), NullLogger.Instance).RunAsync(CancellationToken.None);
            var spark = await new JobRunner(Settings("spark", "out-spark"), Engines.Factory(NullLoggerFactory.Instance), NullLogger.Instance).RunAsync(CancellationToken.None);
            output.WriteLine($"DuckDB {duck.Manifest.Versions["engine"]}; Spark {spark.Manifest.Versions["engine"]}");

            var runFolder = Path.Combine(root, "out-spark", RunFolderPublisher.RunsFolder, spark.Manifest.RunId);
            Assert.Equal(spark.Manifest.RunId, File.ReadAllText(Path.Combine(root, "out-spark", RunFolderPublisher.LatestFileName)).Trim());
            Assert.Equal(duck.Manifest.RowCounts.Keys.Order(), spark.Manifest.RowCounts.Keys.Order());
            var problems = new List<string>();
            foreach (var table in duck.Manifest.RowCounts.Keys.Order(StringComparer.Ordinal))
            {
                var expected = await ReadTableAsync(Path.Combine(root, "out-duckdb", table));
                var actual = await ReadTableAsync(Path.Combine(runFolder, table));
                problems.AddRange(Compare(table, expected, actual));
                output.WriteLine($"{table}: {expected.Rows.Count} rows on DuckDB, {actual.Rows.Count} on Spark");
            }
            Assert.True(problems.Count == 0, string.Join("\n", problems.Take(50)));
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    private sealed record Table(IReadOnlyList<string> Columns, List<object?[]> Rows);

    /// <summary>Every Parquet part file of a table folder (Spark writes several, and its own _SUCCESS and .crc files).</summary>
    private static async Task<Table> ReadTableAsync(string folder)
    {
        var files = Directory.GetFiles(folder, "*.parquet").Where(f => !Path.GetFileName(f).StartsWith('_') && !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(files);
        IReadOnlyList<string>? columns = null;
        var rows = new List<object?[]>();
        foreach (var file in files)
        {
            await using var reader = await ParquetReader.CreateAsync(file);
            var fields = reader.Schema.DataFields;
            columns ??= fields.Select(f => f.Name).ToList();
            Assert.Equal(columns, fields.Select(f => f.Name));
            for (var g = 0; g < reader.RowGroupCount; g++)
            {
                var group = reader.OpenRowGroupReader(g);
                var count = (int)group.RowCount;
                var data = new object?[fields.Length][];
                for (var c = 0; c < fields.Length; c++) data[c] = await ReadColumnAsync(group, fields[c], count);
                for (var r = 0; r < count; r++) rows.Add(data.Select(column => Normalise(column[r])).ToArray());
            }
        }
        return new Table(columns!, rows);
    }

    private static async Task<object?[]> ReadColumnAsync(ParquetRowGroupReader group, Parquet.Schema.DataField field, int count)
    {
        var type = field.ClrType;
        if (type == typeof(string) || type == typeof(ReadOnlyMemory<char>))
        {
            var values = new string?[count];
            await group.ReadAsync(field, values.AsMemory());
            return values;
        }
        return type == typeof(long) ? await ReadStructAsync<long>(group, field, count)
            : type == typeof(int) ? await ReadStructAsync<int>(group, field, count)
            : type == typeof(short) ? await ReadStructAsync<short>(group, field, count)
            : type == typeof(double) ? await ReadStructAsync<double>(group, field, count)
            : type == typeof(float) ? await ReadStructAsync<float>(group, field, count)
            : type == typeof(bool) ? await ReadStructAsync<bool>(group, field, count)
            : type == typeof(DateTime) ? await ReadStructAsync<DateTime>(group, field, count)
            : throw new NotSupportedException($"The live comparison does not read {type} ({field.Name}).");
    }

    private static async Task<object?[]> ReadStructAsync<T>(ParquetRowGroupReader group, Parquet.Schema.DataField field, int count) where T : struct
    {
        if (field.IsNullable)
        {
            var nullable = new T?[count];
            await group.ReadAsync<T>(field, nullable.AsMemory());
            return [.. nullable.Select(v => (object?)v)];
        }
        var values = new T[count];
        await group.ReadAsync<T>(field, values.AsMemory());
        return [.. values.Select(v => (object?)v)];
    }

    /// <summary>Integers as long (Spark and DuckDB may pick INT or BIGINT for a count), the rest as read.</summary>
    private static object? Normalise(object? value) => value switch
    {
        int i => (long)i,
        short s => (long)s,
        float f => (double)f,
        _ => value,
    };

    private static string Key(object?[] row) =>
        string.Join("\u0001", row.Select(v => v switch { null => "∅", double => "", _ => Convert.ToString(v, CultureInfo.InvariantCulture) }));

    private static IEnumerable<string> Compare(string table, Table expected, Table actual)
    {
        if (!expected.Columns.SequenceEqual(actual.Columns))
        {
            yield return $"{table}: columns differ: DuckDB {string.Join(", ", expected.Columns)}; Spark {string.Join(", ", actual.Columns)}";
            yield break;
        }
        if (expected.Rows.Count != actual.Rows.Count) yield return $"{table}: {expected.Rows.Count} rows on DuckDB, {actual.Rows.Count} on Spark";
        // The same rows whatever order the part files hold them in: sorted by every non-double value, then compared.
        var e = expected.Rows.OrderBy(Key, StringComparer.Ordinal).ToList();
        var a = actual.Rows.OrderBy(Key, StringComparer.Ordinal).ToList();
        var shown = 0;
        for (var r = 0; r < Math.Min(e.Count, a.Count) && shown < 10; r++)
        {
            for (var c = 0; c < expected.Columns.Count; c++)
            {
                var (x, y) = (e[r][c], a[r][c]);
                var same = x is double dx && y is double dy
                    ? Math.Abs(dx - dy) <= Tolerance * Math.Max(1, Math.Abs(dx)) || (double.IsNaN(dx) && double.IsNaN(dy))
                    : Equals(x, y);
                if (!same)
                {
                    shown++;
                    yield return $"{table} row {r} ({Key(e[r])}): column {expected.Columns[c]} is {x ?? "NULL"} on DuckDB, {y ?? "NULL"} on Spark";
                }
            }
        }
    }
}
