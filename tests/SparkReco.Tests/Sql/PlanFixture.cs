using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using SparkReco.Cli;
using SparkReco.Generator;
using SparkReco.Jobs;
using SparkReco.Tests.Support;

namespace SparkReco.Tests.Sql;

/// <summary>
/// <c>sparkreco plan</c> of <c>conf/local.json</c> over a fixed small generated input, in both dialects, with the data
/// folder shown as <c>&lt;data&gt;</c> and a fixed start time, so the text is the same on every machine.
/// </summary>
public sealed class PlanFixture : IAsyncLifetime, IDisposable
{
    public static readonly DateTime Now = new(2026, 11, 2, 0, 0, 0, DateTimeKind.Utc);

    private readonly TempDirectory _data = new();

    public string DuckDb { get; private set; } = "";
    public string Spark { get; private set; } = "";

    /// <summary>The folder of this source file (golden files and Spark's function lists live beside it).</summary>
    public static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    public static string RepositoryRoot => Path.GetFullPath(Path.Combine(SourceDirectory(), "..", "..", ".."));

    public async Task InitializeAsync()
    {
        await SyntheticGenerator.GenerateAsync(
            new GeneratorOptions(_data.Path, Events: 2_000, Users: 50, Items: 40, Communities: 4, Categories: 6, Seed: 42, Days: 28, Bots: 1),
            progress: null, CancellationToken.None);
        DuckDb = await RenderAsync("duckdb");
        Spark = await RenderAsync("spark");
    }

    public async Task<string> RenderAsync(string engine, params (string Key, string Value)[] extra)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Engine:Kind"] = engine,
            ["Input:Events"] = Path.Combine(_data.Path, "events"),
            ["Input:Items"] = Path.Combine(_data.Path, "items"),
            ["Input:Follows"] = Path.Combine(_data.Path, "follows"),
            ["Affinity:AsOf"] = "2026-11-01T00:00:00Z",
        };
        foreach (var (key, value) in extra) overrides[key] = value;
        var settings = SettingsLoader.Load(Path.Combine(RepositoryRoot, "conf", "local.json"), overrides);
        using var output = new StringWriter { NewLine = "\n" };
        await PlanWriter.WriteAsync(settings, Engines.Dialect(engine), Now, output, CancellationToken.None);
        return output.ToString().Replace(_data.Path, "<data>", StringComparison.Ordinal);
    }

    /// <summary>The plan cut into sections: "sources", then one per stage, each a list of statements.</summary>
    public static IReadOnlyList<(string Stage, IReadOnlyList<string> Statements)> Sections(string plan)
    {
        var sections = new List<(string, IReadOnlyList<string>)>();
        var parts = Regex.Split(plan, @"^-- ===== stage ", RegexOptions.Multiline);
        sections.Add(("sources", Statements(parts[0])));
        foreach (var part in parts.Skip(1))
            sections.Add((part[..part.IndexOf(':', StringComparison.Ordinal)], Statements(part[(part.IndexOf('\n', StringComparison.Ordinal) + 1)..])));
        return sections;
    }

    private static List<string> Statements(string text) =>
        text.Split(";\n").Select(s => s.Trim()).Where(s => StripComments(s).Trim().Length > 0).ToList();

    public static string StripComments(string sql) => Regex.Replace(sql, @"--[^\n]*", "");

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _data.Dispose();
}
