using SparkReco.Core.Errors;
using SparkReco.Generator;
using SparkReco.Tests.Support;
using static SparkReco.Tests.Support.TestParquet;

namespace SparkReco.Tests.Cli;

[Collection(CliCollection.Name)]
public sealed class CommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_readme_settings_table_is_what_settings_markdown_prints()
    {
        // The table is generated from the code's descriptions; a hand edit there is lost at the next regeneration.
        var result = await CliRunner.RunAsync("settings", "--markdown");
        Assert.True(result.ExitCode == 0, result.Error);
        var readme = (await File.ReadAllTextAsync(Path.Combine(Sql.PlanFixture.RepositoryRoot, "README.md"))).ReplaceLineEndings("\n");
        var start = readme.IndexOf('\n', readme.IndexOf("<!-- settings:begin", StringComparison.Ordinal)) + 1;
        var end = readme.IndexOf("<!-- settings:end", StringComparison.Ordinal);
        Assert.True(start > 0 && end > start, "README has no settings:begin/end markers");
        Assert.Equal(result.Out.ReplaceLineEndings("\n").TrimEnd(), readme[start..end].TrimEnd());
    }

    [Fact]
    public async Task Plan_prints_the_source_views_and_every_stage_in_dag_order()
    {
        await WriteEventsAsync(_dir.Combine("events.parquet"), [new("u1", "i1", "view", T0)]);
        var result = await CliRunner.RunAsync("plan", "--events", _dir.Combine("events.parquet"), "--as-of", "2026-11-01T00:00:00Z");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("CREATE OR REPLACE VIEW \"events_source\" AS", result.Out);
        Assert.Contains("read_parquet(", result.Out);
        var clean = result.Out.IndexOf("-- ===== stage clean_events", StringComparison.Ordinal);
        var affinity = result.Out.IndexOf("-- ===== stage affinity", StringComparison.Ordinal);
        Assert.True(clean > 0 && affinity > clean, "stages appear in DAG order");
        Assert.Contains("TIMESTAMP '2026-11-01 00:00:00.000000'", result.Out);
        Assert.DoesNotContain("QUALIFY", result.Out);
    }

    [Fact]
    public async Task Validate_reports_ok_and_what_a_drop_policy_would_drop_without_writing()
    {
        await WriteEventsAsync(_dir.Combine("events.parquet"), [new("u1", "i1", "view", T0), new("u1", "i1", "poke", T0)]);
        var result = await CliRunner.RunAsync("validate", "--events", _dir.Combine("events.parquet"), "--output", _dir.Combine("out"),
            "--set", "Clean:UnknownEventTypes=drop");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("events  1 file(s), 2 rows: OK", result.Out);
        Assert.Contains("will drop 1 rows: unknown event type", result.Out);
        Assert.Single(result.Out.Split('\n'), line => line.Contains("will drop", StringComparison.Ordinal));
        Assert.False(Directory.Exists(_dir.Combine("out")));
    }

    [Fact]
    public async Task Import_converts_movielens_u_data_that_run_then_accepts()
    {
        await File.WriteAllTextAsync(_dir.Combine("u.data"), "196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n");
        var import = await CliRunner.RunAsync("import", "--input", _dir.Combine("u.data"), "--output", _dir.Combine("ml"),
            "--delimiter", "tab", "--no-header", "--user-column", "1", "--item-column", "2", "--weight-column", "3", "--time-column", "4",
            "--time-format", "epoch-seconds", "--constant-event-type", "rating");
        Assert.True(import.ExitCode == 0, import.Error);
        Assert.Contains("Imported 3 rows", import.Out);

        var run = await CliRunner.RunAsync("run", "--events", _dir.Combine("ml"), "--output", _dir.Combine("out"), "--set", "Affinity:EventWeights:rating=1");
        Assert.True(run.ExitCode == 0, run.Error);
        var rows = await ReadAllAsync(_dir.Combine("out", "affinity"));
        Assert.Equal(3, rows.Count);
        Assert.Contains(rows, r => (string)r["user_id"]! == "196" && (string)r["item_id"]! == "242");
    }

    [Fact]
    public async Task Import_errors_exit_3_and_name_the_line()
    {
        await File.WriteAllTextAsync(_dir.Combine("u.data"), "196\t242\t3\t881250949\n186\t302\t3\tyesterday\n");
        var import = await CliRunner.RunAsync("import", "--input", _dir.Combine("u.data"), "--output", _dir.Combine("ml"),
            "--delimiter", "tab", "--no-header", "--user-column", "1", "--item-column", "2", "--time-column", "4",
            "--time-format", "epoch-seconds", "--constant-event-type", "rating");
        Assert.Equal(ExitCodes.InputData, import.ExitCode);
        Assert.Contains("line 2", import.Error);
        Assert.False(File.Exists(_dir.Combine("ml", "part-00000.parquet")));
    }

    [Fact]
    public async Task Generate_rejects_bad_options_with_exit_2()
    {
        var result = await CliRunner.RunAsync("generate", "--output", _dir.Combine("g"), "--events", "0");
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("Events", result.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Recommenders_can_be_switched_off_leaving_the_other_tables()
    {
        var data = _dir.Combine("data");
        await SyntheticGenerator.GenerateAsync(new GeneratorOptions(data, Events: 20_000, Users: 200, Items: 100, Communities: 4, Categories: 6), null, CancellationToken.None);
        string[] inputs = ["--events", Path.Combine(data, "events"), "--items", Path.Combine(data, "items"), "--output", _dir.Combine("out")];

        var run = await CliRunner.RunAsync(["run", .. inputs, "--set", "Recommend:Enabled=false"]);
        Assert.True(run.ExitCode == 0, run.Error);
        var published = Directory.GetDirectories(_dir.Combine("out")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["affinity", "segment_feature_means", "segment_profiles", "segments", "user_scores"], published);

        var contradiction = await CliRunner.RunAsync(["run", .. inputs, "--set", "Recommend:Enabled=false", "--set", "Evaluation:Mode=temporal"]);
        Assert.Equal(ExitCodes.Usage, contradiction.ExitCode);
        Assert.Contains("'Recommend:Enabled' is false", contradiction.Error);
    }
}
