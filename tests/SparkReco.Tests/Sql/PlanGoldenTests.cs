namespace SparkReco.Tests.Sql;

/// <summary>
/// The whole job's SQL in both dialects, kept as files so every dialect or stage change is a reviewable diff.
/// Regenerate after an intended change with
/// <c>SPARKRECO_UPDATE_GOLDEN=1 dotnet test tests/SparkReco.Tests -c Release --filter PlanGoldenTests</c>
/// and review <c>git diff tests/SparkReco.Tests/Sql/Golden</c>.
/// </summary>
public sealed class PlanGoldenTests(PlanFixture plans) : IClassFixture<PlanFixture>
{
    [Fact]
    public void Plan_in_the_duckdb_dialect_matches_its_golden_file() => AssertGolden("plan-duckdb.sql", plans.DuckDb);

    [Fact]
    public void Plan_in_the_spark_dialect_matches_its_golden_file() => AssertGolden("plan-spark.sql", plans.Spark);

    private static void AssertGolden(string name, string actual)
    {
        var path = Path.Combine(PlanFixture.SourceDirectory(), "Golden", name);
        if (Environment.GetEnvironmentVariable("SPARKRECO_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }
        Assert.True(File.Exists(path), $"{path} is missing; create it with SPARKRECO_UPDATE_GOLDEN=1 (see {nameof(PlanGoldenTests)}).");
        var expected = File.ReadAllText(path).ReplaceLineEndings("\n");
        if (expected == actual) return;
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        var line = Enumerable.Range(0, Math.Min(e.Length, a.Length)).FirstOrDefault(i => e[i] != a[i], Math.Min(e.Length, a.Length));
        Assert.Fail($"{name} differs from the plan first at line {line + 1}:\n  golden: {(line < e.Length ? e[line] : "<end>")}\n  plan:   {(line < a.Length ? a[line] : "<end>")}\n" +
                    "If the change is intended, regenerate with SPARKRECO_UPDATE_GOLDEN=1 and review the diff.");
    }
}
