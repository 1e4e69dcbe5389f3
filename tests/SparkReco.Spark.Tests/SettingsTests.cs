using Microsoft.Extensions.Logging.Abstractions;
using SparkReco.Cli;
using SparkReco.Core.Configuration;
using SparkReco.Core.Errors;
using SparkReco.Publishing;

namespace SparkReco.Spark.Tests;

/// <summary>Engine:SparkRemote / --spark-remote and the choice of publish protocol, as the CLI reads them.</summary>
public sealed class SettingsTests
{
    private static JobSettings Load(params (string Key, string Value)[] values) => LoadFor(values);

    /// <summary>Settings as the CLI loads them, from these values only.</summary>
    internal static JobSettings LoadFor(params (string Key, string Value)[] values) =>
        SettingsLoader.Load(null, values.ToDictionary(v => v.Key, v => (string?)v.Value));

    [Fact]
    public void Spark_without_an_address_names_the_setting_and_the_option()
    {
        var settings = Load(("Engine:Kind", "spark"));
        var error = Assert.Throws<ConfigurationException>(() => Engines.SparkOptions(settings.Engine, NullLoggerFactory.Instance));
        Assert.Equal(ExitCodes.Usage, error.ExitCode);
        Assert.Contains("'Engine:SparkRemote'", error.Message, StringComparison.Ordinal);
        Assert.Contains("--spark-remote", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://spark:15002", "starts with sc://")]
    [InlineData("sc://spark:15002/;token=abc", "SPARKRECO_SPARK_TOKEN")]
    public void A_bad_address_in_the_configuration_is_a_configuration_error(string remote, string expected)
    {
        var error = Assert.Throws<ConfigurationException>(() => Load(("Engine:Kind", "spark"), ("Engine:SparkRemote", remote)));
        Assert.Contains("Engine:SparkRemote", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("token=abc", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_spark_remote_option_selects_the_spark_engine_unless_the_engine_option_says_otherwise()
    {
        var options = new CommonOptions();
        var command = new System.CommandLine.Command("run");
        options.AddTo(command);
        var overrides = options.Overrides(command.Parse(["--spark-remote", "sc://spark:15002"]));
        Assert.Equal("spark", overrides["Engine:Kind"]);
        Assert.Equal("sc://spark:15002", overrides["Engine:SparkRemote"]);
        var explicitEngine = options.Overrides(command.Parse(["--spark-remote", "sc://spark:15002", "--engine", "duckdb"]));
        Assert.Equal("duckdb", explicitEngine["Engine:Kind"]);
    }

    [Fact]
    public void Spark_runs_publish_into_run_folders_and_duckdb_runs_swap_in_place()
    {
        Assert.IsType<RunFolderPublisher>(OutputPublishers.For(Load(("Engine:Kind", "spark"), ("Output:Path", "out"))));
        Assert.IsType<OutputPublisher>(OutputPublishers.For(Load(("Output:Path", "out"))));
    }

    [Theory]
    [InlineData("spark", "s3a://bucket/reco", true)]
    [InlineData("spark", "abfss://lake@account.dfs.core.windows.net/reco", true)]
    [InlineData("spark", "file:///tmp/x", false)]
    [InlineData("spark", "out", false)]
    [InlineData("duckdb", "out", false)]
    public void An_object_store_output_is_published_through_the_engine_only_on_spark(string engine, string output, bool lake)
    {
        var settings = Load(("Engine:Kind", engine), ("Output:Path", output));
        Assert.Equal(lake, OutputPublishers.IsLake(settings));
        if (lake) Assert.Throws<InvalidOperationException>(() => OutputPublishers.For(settings));
        else Assert.IsNotType<LakeRunFolderPublisher>(OutputPublishers.For(settings));
    }

    [Fact]
    public void An_object_store_output_on_duckdb_is_refused_naming_the_setting_and_a_file_url_on_spark_is_a_local_folder()
    {
        var error = Assert.Throws<ConfigurationException>(() => OutputPublishers.For(Load(("Output:Path", "s3://bucket/reco"))));
        Assert.Equal(ExitCodes.Usage, error.ExitCode);
        Assert.StartsWith("setting 'Output:Path' is 's3://bucket/reco', a s3:// URL; the embedded engine (DuckDB) writes local folders only", error.Message, StringComparison.Ordinal);
        Assert.Contains("Engine:Kind=spark", error.Message, StringComparison.Ordinal);
        Assert.Equal(Path.GetFullPath("/tmp/x"), new RunFolderPublisher(RunFolderPublisher.LocalPath("file:///tmp/x")).OutputDirectory);
    }
}
