using SparkReco.Cli;
using SparkReco.Core.Configuration;
using SparkReco.Core.Errors;
using SparkReco.Tests.Support;

namespace SparkReco.Tests.Configuration;

[Collection(CliCollection.Name)] // mutates process environment variables
public sealed class SettingsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("SPARKRECO__Affinity__HalfLifeDays", null);
        Environment.SetEnvironmentVariable("SPARKRECO__Clean__LookbackDays", null);
        _dir.Dispose();
    }

    private string WriteConfig(string json)
    {
        var path = _dir.Combine("config.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Defaults_apply_when_nothing_is_configured()
    {
        var settings = SettingsLoader.Load(null, new Dictionary<string, string?>());
        Assert.Equal(30, settings.Affinity.HalfLifeDays);
        Assert.Equal("output", settings.Output.Path);
        Assert.Equal("fail", settings.Clean.InvalidRows);
        Assert.Equal(4, settings.Affinity.EventWeights.Count);
    }

    [Fact]
    public void Relative_paths_in_the_file_are_taken_from_the_file_folder_and_command_line_paths_from_the_working_directory()
    {
        Directory.CreateDirectory(_dir.Combine("conf"));
        var config = _dir.Combine("conf", "job.json");
        File.WriteAllText(config, """
            {
              "Input": { "Events": "../data/events", "Items": "s3://bucket/items" },
              "Output": { "Path": "out" },
              "Engine": { "TempDirectory": "/scratch/sparkreco" }
            }
            """);
        var settings = SettingsLoader.Load(config, new Dictionary<string, string?> { ["Input:Follows"] = "follows" });
        Assert.Equal(_dir.Combine("data", "events"), settings.Input.Events);
        Assert.Equal(_dir.Combine("conf", "out"), settings.Output.Path);
        Assert.Equal("s3://bucket/items", settings.Input.Items); // a URI is not a local path
        Assert.Equal("/scratch/sparkreco", settings.Engine.TempDirectory); // already absolute
        Assert.Equal("follows", settings.Input.Follows); // given on the command line: the working directory's
    }

    [Fact]
    public void Output_path_tokens_take_the_as_of_so_a_backfill_writes_its_own_folder()
    {
        var settings = SettingsLoader.Load(null, new Dictionary<string, string?>
        {
            ["Output:Path"] = "lake/reco/as_of={as_of}/run-{as_of_time}",
            ["Affinity:AsOf"] = "2026-11-01T06:30:00Z",
        });
        Assert.Equal("lake/reco/as_of=2026-11-01/run-20261101T063000Z", settings.Output.Path);
        Assert.Equal("output", SettingsLoader.Load(null, new Dictionary<string, string?> { ["Affinity:AsOf"] = "2026-11-01T06:30:00Z" }).Output.Path);
    }

    [Fact]
    public void Output_path_tokens_without_an_as_of_are_a_setting_error_naming_both_settings()
    {
        var e = Assert.Throws<ConfigurationException>(() => SettingsLoader.Load(null, new Dictionary<string, string?> { ["Output:Path"] = "out/as_of={as_of}" }));
        Assert.Contains("'Output:Path'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'Affinity:AsOf'", e.Message, StringComparison.Ordinal);
        Assert.Contains("--as-of", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_path_given_on_the_command_line_overrides_the_file_one_as_given()
    {
        var config = WriteConfig("""{ "Output": { "Path": "from-file" } }""");
        var settings = SettingsLoader.Load(config, new Dictionary<string, string?> { ["Output:Path"] = "from-cli" });
        Assert.Equal("from-cli", settings.Output.Path);
    }

    [Fact]
    public void File_is_overridden_by_environment_which_is_overridden_by_command_line()
    {
        var config = WriteConfig("""{ "Affinity": { "HalfLifeDays": 10 }, "Clean": { "LookbackDays": 7, "BotMaxEventsPerUser": 100 } }""");
        Environment.SetEnvironmentVariable("SPARKRECO__Affinity__HalfLifeDays", "20");
        Environment.SetEnvironmentVariable("SPARKRECO__Clean__LookbackDays", "14");

        var settings = SettingsLoader.Load(config, new Dictionary<string, string?> { ["Affinity:HalfLifeDays"] = "30" });

        Assert.Equal(30, settings.Affinity.HalfLifeDays);       // command line beats environment and file
        Assert.Equal(14, settings.Clean.LookbackDays);          // environment beats file
        Assert.Equal(100, settings.Clean.BotMaxEventsPerUser);  // file beats default
    }

    [Fact]
    public void Bad_values_name_the_setting_the_value_and_what_is_allowed()
    {
        var config = WriteConfig("""{ "Affinity": { "HalfLifeDays": "soon" }, "Clean": { "InvalidRows": "ignore" }, "Engine": { "MemoryLimit": "lots" } }""");
        var e = Assert.Throws<ConfigurationException>(() => SettingsLoader.Load(config, new Dictionary<string, string?>()));
        Assert.Contains("setting 'Affinity:HalfLifeDays' has value 'soon'; expected a number between 0.001 and 100000", e.Message);
        Assert.Contains("setting 'Clean:InvalidRows' has value 'ignore'; expected one of fail, drop", e.Message);
        Assert.Contains("setting 'Engine:MemoryLimit' has value 'lots'", e.Message);
        Assert.Equal(ExitCodes.Usage, e.ExitCode);
    }

    [Fact]
    public void Unknown_setting_is_rejected_with_a_suggestion()
    {
        var config = WriteConfig("""{ "Affinity": { "HalfLifeDay": 10 } }""");
        var e = Assert.Throws<ConfigurationException>(() => SettingsLoader.Load(config, new Dictionary<string, string?>()));
        Assert.Contains("setting 'Affinity:HalfLifeDay' is not a SparkReco setting; did you mean 'Affinity:HalfLifeDays'?", e.Message);
    }

    [Fact]
    public void Invalid_json_names_the_file_and_line()
    {
        var config = WriteConfig("{\n  \"Affinity\": {\n    \"HalfLifeDays\": 10,,\n  }\n}");
        var e = Assert.Throws<ConfigurationException>(() => SettingsLoader.Load(config, new Dictionary<string, string?>()));
        Assert.Contains("config.json' is not valid JSON at line 3", e.Message);
    }

    [Fact]
    public async Task Cli_exits_2_for_configuration_errors_before_touching_input()
    {
        var missing = await CliRunner.RunAsync("run", "--config", _dir.Combine("nope.json"));
        Assert.Equal(ExitCodes.Usage, missing.ExitCode);
        Assert.Contains("nope.json' does not exist", missing.Error);

        var bad = await CliRunner.RunAsync("run", "--events", _dir.Combine("absent"), "--set", "Clean:LookbackDays=-3");
        Assert.Equal(ExitCodes.Usage, bad.ExitCode);
        Assert.Contains("Clean:LookbackDays", bad.Error);

        var usage = await CliRunner.RunAsync("run", "--no-such-option");
        Assert.Equal(ExitCodes.Usage, usage.ExitCode);
    }

    [Fact]
    public void Every_setting_is_documented_with_a_default()
    {
        var all = JobSettings.Describe();
        Assert.Contains(all, s => s.Key == "Affinity:HalfLifeDays" && s.Default == "30");
        Assert.All(all, s => Assert.False(string.IsNullOrWhiteSpace(s.Description), s.Key));
    }
}
