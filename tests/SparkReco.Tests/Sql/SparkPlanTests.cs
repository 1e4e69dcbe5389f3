using System.Text.Json;
using System.Text.RegularExpressions;
using SparkReco.Jobs;

namespace SparkReco.Tests.Sql;

/// <summary>
/// Static checks of <c>plan --engine spark</c> against Spark's parse-time rules and function registry
/// (<c>functions-3.5.json</c>, <c>functions-4.0.json</c>: copies of <c>shared/data/spark-functions/</c>). They catch the
/// DuckDB-isms that made every statement unparsable; they are not Spark's grammar, and nothing here ran on Spark.
/// A check that fails only in a stage listed in <see cref="KnownGaps"/> passes; a known gap that no longer fails fails
/// the test, so the list is shortened when the gap is fixed.
/// </summary>
public sealed partial class SparkPlanTests(PlanFixture plans) : IClassFixture<PlanFixture>
{
    /// <summary>(check, stage) → why it still fails: SQL in files the CF rewrite owns; each names the change it needs.</summary>
    private static readonly Dictionary<(string Check, string Stage), string> KnownGaps = new()
    {
    };

    private static readonly HashSet<string> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "all", "and", "as", "by", "case", "cast", "decimal", "else", "exists", "filter", "from", "in", "join", "not", "on",
        "options", "or", "over", "select", "table", "then", "using", "values", "view", "when", "where", "with",
    };

    [Fact]
    public void Every_function_the_spark_plan_calls_is_a_spark_3_5_builtin() => AssertFunctionsKnown("functions-3.5.json");

    [Fact]
    public void Every_function_the_spark_plan_calls_is_a_spark_4_0_builtin() => AssertFunctionsKnown("functions-4.0.json");

    [Fact]
    public void Spark_plan_has_no_double_quoted_identifiers() => AssertOnlyKnownGaps("double-quote", s => Code(s).Contains('"', StringComparison.Ordinal));

    [Fact]
    public void Spark_plan_has_no_varchar_without_length() => AssertOnlyKnownGaps("varchar", s => VarcharWithoutLength().IsMatch(Code(s)));

    [Fact]
    public void Spark_plan_has_no_double_colon_casts() => AssertOnlyKnownGaps("double-colon", s => Code(s).Contains("::", StringComparison.Ordinal));

    [Fact]
    public void Spark_plan_has_no_qualify() => AssertOnlyKnownGaps("qualify", s => Regex.IsMatch(Code(s), @"\bQUALIFY\b", RegexOptions.IgnoreCase));

    [Fact]
    public void Spark_plan_has_no_duckdb_structs() => AssertOnlyKnownGaps("struct-pack", s => Regex.IsMatch(Code(s), @"\bstruct_(pack|extract)\b", RegexOptions.IgnoreCase));

    [Fact]
    public void Spark_plan_has_no_read_parquet() => AssertOnlyKnownGaps("read-parquet", s => Regex.IsMatch(Code(s), @"\bread_parquet\b", RegexOptions.IgnoreCase));

    [Fact]
    public void Spark_plan_creates_no_tables() =>
        AssertOnlyKnownGaps("create-table", s => Regex.IsMatch(Code(s), @"\bCREATE\s+(OR\s+REPLACE\s+)?(TEMP\w*\s+)?TABLE\b", RegexOptions.IgnoreCase));

    [Fact]
    public void Spark_plan_concatenates_only_through_the_dialect() =>
        AssertOnlyKnownGaps("concat-null-semantics", s => Regex.IsMatch(Code(s), @"(?<![\w.])concat\s*\(", RegexOptions.IgnoreCase));

    [Fact]
    public void Spark_plan_publishes_rank_columns_as_bigint()
    {
        var published = JobPlan.Default().Stages.Where(s => s.IsOutput).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        AssertOnlyKnownGaps("published-rank-bigint", s => false, (stage, statements) =>
            published.Contains(stage)
            && statements.Any(s => Regex.Matches(Code(s), @"(\S+)\s+AS\s+`rank`").Any(m => !m.Value.StartsWith("BIGINT)", StringComparison.Ordinal))));
    }

    [Fact]
    public void Spark_plan_caches_every_table_it_materialises()
    {
        var statements = PlanFixture.Sections(plans.Spark).SelectMany(s => s.Statements).Select(Code).ToList();
        foreach (var (statement, i) in statements.Select((s, i) => (s, i)))
        {
            var view = Regex.Match(statement, @"CREATE OR REPLACE TEMPORARY VIEW (`[^`]+`) AS");
            if (!view.Success || i + 1 >= statements.Count) continue;
            var next = statements[i + 1];
            // Views that are not materialised (sources, clean_events, the test file) are followed by anything but CACHE TABLE.
            if (next.StartsWith("CACHE TABLE", StringComparison.Ordinal))
                Assert.StartsWith($"CACHE TABLE {view.Groups[1].Value} ", next);
        }
        Assert.Contains("\nCACHE TABLE `affinity` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');\n", plans.Spark, StringComparison.Ordinal);
    }

    [Fact]
    public void Spark_plan_reads_parquet_through_temporary_views()
    {
        Assert.Contains("CREATE OR REPLACE TEMPORARY VIEW `events_source_files`\nUSING parquet\nOPTIONS (path '<data>/events', mergeSchema 'true')", plans.Spark);
        Assert.Contains("FROM `events_source_files`", plans.Spark);
    }

    [Fact]
    public async Task Ease_plan_shows_the_driver_made_weights_and_stays_spark_sql()
    {
        var plan = await plans.RenderAsync("spark", ("Recommend:ItemModel", "ease"));
        Assert.Contains("-- register driver-made table cf_ease_weights (item_ix INT, similar_ix INT, similarity DOUBLE, cooccurrence BIGINT, rank BIGINT) as rows", plan, StringComparison.Ordinal);
        Assert.Contains("JOIN `cf_item_ease` AS s", plan, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(PlanFixture.SourceDirectory(), "functions-3.5.json")));
        var known = json.RootElement.GetProperty("builtin").EnumerateArray().Select(e => e.GetString()!).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var ease = PlanFixture.Sections(plan).Where(s => s.Stage.Contains("cf_item_ease", StringComparison.Ordinal)).SelectMany(s => s.Statements).ToList();
        Assert.NotEmpty(ease);
        Assert.All(ease, statement =>
        {
            Assert.DoesNotContain(FunctionCalls(statement), f => !known.Contains(f));
            Assert.DoesNotContain("\"", Code(statement), StringComparison.Ordinal);
        });
    }

    private void AssertFunctionsKnown(string file)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(PlanFixture.SourceDirectory(), file)));
        var known = json.RootElement.GetProperty("builtin").EnumerateArray().Concat(json.RootElement.GetProperty("table").EnumerateArray())
            .Select(e => e.GetString()!).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var called = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        AssertOnlyKnownGaps("functions-" + file, s =>
        {
            var unknown = FunctionCalls(s).Where(f => !known.Contains(f)).ToList();
            called.UnionWith(FunctionCalls(s));
            return unknown.Count > 0;
        }, describe: s => string.Join(", ", FunctionCalls(s).Where(f => !known.Contains(f)).Distinct()));
        // The extraction finds what it should (guards against a regex that matches nothing).
        Assert.Superset(new HashSet<string>(["sum", "count", "row_number", "named_struct", "unix_micros", "md5", "ln", "raise_error", "concat_ws"], StringComparer.OrdinalIgnoreCase), called);
    }

    /// <summary>Names called as functions: <c>name(</c>, not preceded by <c>.</c> or <c>AS</c> (an alias with a column list), not a keyword.</summary>
    private static IEnumerable<string> FunctionCalls(string statement) =>
        Regex.Matches(Code(statement), @"(?<![\w.`])(?<!\bAS\s)([A-Za-z_]\w*)\s*\(", RegexOptions.IgnoreCase)
            .Select(m => m.Groups[1].Value.ToLowerInvariant())
            .Where(name => !Keywords.Contains(name));

    /// <summary>The statement without comments and string literals (Spark escapes: backslash).</summary>
    private static string Code(string statement)
    {
        var code = PlanFixture.StripComments(statement);
        code = Regex.Replace(code, @"'(?:[^'\\]|\\.)*'", "''");
        return code;
    }

    private void AssertOnlyKnownGaps(string check, Func<string, bool> violates,
        Func<string, IReadOnlyList<string>, bool>? sectionViolates = null, Func<string, string>? describe = null)
    {
        var failing = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (stage, statements) in PlanFixture.Sections(plans.Spark))
        {
            var bad = statements.FirstOrDefault(violates);
            if (bad is not null) failing[stage] = describe?.Invoke(bad) ?? FirstLines(bad);
            else if (sectionViolates?.Invoke(stage, statements) == true) failing[stage] = "(see the check)";
        }
        var known = KnownGaps.Keys.Where(k => k.Check == check).Select(k => k.Stage).ToHashSet(StringComparer.Ordinal);
        var unexpected = failing.Where(f => !known.Contains(f.Key)).Select(f => $"stage {f.Key}: {f.Value}").ToList();
        Assert.True(unexpected.Count == 0, $"check {check} fails in:\n" + string.Join("\n", unexpected));
        var fixedGaps = known.Where(stage => !failing.ContainsKey(stage)).ToList();
        Assert.True(fixedGaps.Count == 0, $"known gap(s) of check {check} no longer fail — remove them from {nameof(KnownGaps)}: {string.Join(", ", fixedGaps)}");
    }

    private static string FirstLines(string statement) => string.Join(" | ", statement.Split('\n').Take(3));

    [GeneratedRegex(@"\bVARCHAR\b(?!\s*\()", RegexOptions.IgnoreCase)]
    private static partial Regex VarcharWithoutLength();
}
