using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using SparkReco.Cli;
using SparkReco.Core.Configuration;
using SparkReco.Engine.DuckDb;
using SparkReco.Generator;
using SparkReco.Jobs;
using SparkReco.Jobs.Running;
using SparkReco.Jobs.Stages.Modelling;
using SparkReco.Tests.Support;

namespace SparkReco.Tests.Sql;

/// <summary>
/// <c>plan</c> and <c>run</c> walk the same steps: every statement a published run executes on DuckDB (source views, row
/// checks, stages, the writes of the published tables, the report's queries) is the statement <c>plan</c> prints, in the
/// same order, and nothing else. What may differ
/// is only what the data decides: the item categories (the plan's stand-ins '&lt;category 1&gt;', …) and the values of
/// driver-made tables, which the plan shows by shape and a run registers as rows.
/// </summary>
public sealed class PlanEqualsRunTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Theory]
    [InlineData("temporal", "similarity")]
    [InlineData("random", "similarity")]
    [InlineData("files", "similarity")]
    [InlineData("temporal", "ease")]
    public async Task Statements_of_a_run_are_the_statements_plan_prints(string evaluationMode, string itemModel)
    {
        await SyntheticGenerator.GenerateAsync(
            new GeneratorOptions(_dir.Path, Events: 3_000, Users: 80, Items: 40, Communities: 4, Categories: 6, Seed: 42, Days: 28, Bots: 1),
            progress: null, CancellationToken.None);
        var settings = SettingsLoader.Load(Path.Combine(PlanFixture.RepositoryRoot, "conf", "local.json"), new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Input:Events"] = _dir.Combine("events"),
            ["Input:Items"] = _dir.Combine("items"),
            ["Input:Follows"] = _dir.Combine("follows"),
            ["Output:Path"] = _dir.Combine("output"),
            ["Affinity:AsOf"] = "2026-11-01T00:00:00Z",
            ["Engine:Threads"] = "1",
            // The C# kernels replace the CF stages' SQL on the embedded engine; the SQL path is what plan prints and Spark runs.
            ["Engine:Kernels"] = "off",
            ["Features:MaxCategories"] = "2",
            ["Evaluation:Mode"] = evaluationMode,
            ["Recommend:ItemModel"] = itemModel,
            // files mode reads held-out events from a file of its own; any events under the contract will do.
            ["Evaluation:TestEvents"] = evaluationMode == "files" ? _dir.Combine("events") : null,
        });
        RecordingEngine? recorder = null;
        var runner = new JobRunner(settings, async (engine, ct) => recorder = new RecordingEngine(await DuckDbEngine.OpenAsync(engine, NullLogger.Instance, ct)), NullLogger.Instance);
        var context = (await runner.RunAsync(CancellationToken.None)).Context;

        var sections = await PlanWriter.SectionsAsync(settings, recorder!.Dialect, context.StartedAt, CancellationToken.None);
        var planned = sections.SelectMany(s => s.Statements).Select(WithoutKernelNote).Select(Normalise).Where(IsExecuted).ToList();
        var categories = context.Results.Get<FeatureSpec>().Categories;
        Assert.Equal(2, categories.Count);
        for (var i = 0; i < categories.Count; i++)
            planned = planned.Select(s => s.Replace($"'<category {i + 1}>'", recorder.Dialect.Literal(categories[i]), StringComparison.Ordinal)).ToList();
        var ran = recorder.Trace.Select(Normalise).ToList();

        Assert.True(ran.Count > 50, $"only {ran.Count} statements ran");
        Assert.Contains(ran, s => s.StartsWith("-- register driver-made table segment_mixture (segment BIGINT, log_prior DOUBLE, w0 DOUBLE", StringComparison.Ordinal));
        Assert.Contains(ran, s => s.StartsWith("-- register driver-made table score_weights (class_index BIGINT, class VARCHAR, bias DOUBLE", StringComparison.Ordinal));
        Assert.Contains("-- write recommendations as Parquet, rows ordered by user_id, rank", ran);
        Assert.Contains(ran, s => s.StartsWith("-- report: users per most likely class", StringComparison.Ordinal));
        for (var i = 0; i < Math.Min(planned.Count, ran.Count); i++)
            Assert.True(planned[i] == ran[i], $"statement {i + 1} differs.\nplan:\n{planned[i]}\nrun:\n{ran[i]}");
        Assert.Equal(planned.Count, ran.Count);
    }

    /// <summary>The CF stages' note on their kernel, written before their first statement.</summary>
    private static readonly Regex KernelNote = new(@"^-- \w+: with Engine:Kernels=auto .*\n-- \(identical rows\); the SQL below .*\n", RegexOptions.Compiled);

    private static string WithoutKernelNote(string statement) => KernelNote.Replace(statement, "");

    /// <summary>Plan entries that stand for something a run does: SQL, and registrations (shown as a comment); not driver notes.</summary>
    private static bool IsExecuted(string entry) =>
        entry.StartsWith("-- register ", StringComparison.Ordinal) || entry.StartsWith("-- write ", StringComparison.Ordinal)
        || PlanFixture.StripComments(entry).Trim().Length > 0;

    private static string Normalise(string statement)
    {
        var s = statement.Trim();
        return s.StartsWith("-- register ", StringComparison.Ordinal) ? Regex.Replace(s, @" as rows(:.*)?$", " as rows", RegexOptions.Singleline) : s;
    }

    public void Dispose() => _dir.Dispose();
}
