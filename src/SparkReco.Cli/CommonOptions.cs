using System.CommandLine;
using SparkReco.Core.Configuration;
using SparkReco.Core.Errors;

namespace SparkReco.Cli;

/// <summary>Options shared by the commands that read the job configuration.</summary>
public sealed class CommonOptions
{
    public Option<string?> Config { get; } = new("--config", "-c") { Description = "JSON configuration file (e.g. conf/local.json). Environment variables SPARKRECO__Section__Key and the options below override it." };
    public Option<string?> Events { get; } = new("--events") { Description = "Events Parquet path (sets Input:Events)." };
    public Option<string?> Items { get; } = new("--items") { Description = "Items Parquet path (sets Input:Items)." };
    public Option<string?> Follows { get; } = new("--follows") { Description = "Follows Parquet path (sets Input:Follows)." };
    public Option<string?> Output { get; } = new("--output", "-o") { Description = "Output folder (sets Output:Path)." };
    public Option<string?> AsOf { get; } = new("--as-of") { Description = "Reference time, ISO-8601 UTC (sets Affinity:AsOf)." };
    public Option<string?> Engine { get; } = new("--engine") { Description = "Engine that runs the stages: duckdb (embedded) or spark (sets Engine:Kind)." };
    public Option<string?> SparkRemote { get; } = new("--spark-remote") { Description = "Spark Connect server, sc://host:port/;use_ssl=true (sets Engine:SparkRemote and, unless --engine says otherwise, Engine:Kind=spark). The token comes from SPARKRECO_SPARK_TOKEN only." };
    public Option<string[]> Set { get; } = new("--set") { Description = "Any setting as Section:Key=value; repeatable.", Arity = ArgumentArity.ZeroOrMore };
    public Option<bool> Verbose { get; } = new("--verbose", "-v") { Description = "Debug logging, including every SQL statement." };
    public Option<string> LogFormat { get; } = CreateLogFormat();

    private static Option<string> CreateLogFormat()
    {
        var option = new Option<string>("--log-format")
        {
            Description = "Log lines on stderr: text (for people) or json (one JSON object per line with the run id, for log shippers).",
            DefaultValueFactory = _ => ConsoleLogging.TextFormat,
        };
        option.AcceptOnlyFromAmong(ConsoleLogging.TextFormat, ConsoleLogging.JsonFormat);
        return option;
    }

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Config, Events, Items, Follows, Output, AsOf, Engine, SparkRemote, Set, Verbose, LogFormat })
            command.Options.Add(option);
    }

    /// <summary>The command-line layer of the configuration.</summary>
    public Dictionary<string, string?> Overrides(ParseResult parse)
    {
        var result = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        void Put(string key, string? value)
        {
            if (value is not null) result[key] = value;
        }
        foreach (var pair in parse.GetValue(Set) ?? [])
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new ConfigurationException($"--set '{pair}' is not Section:Key=value (e.g. --set Affinity:HalfLifeDays=14).");
            result[pair[..eq].Trim()] = pair[(eq + 1)..];
        }
        Put("Input:Events", parse.GetValue(Events));
        Put("Input:Items", parse.GetValue(Items));
        Put("Input:Follows", parse.GetValue(Follows));
        Put("Output:Path", parse.GetValue(Output));
        Put("Affinity:AsOf", parse.GetValue(AsOf));
        Put("Engine:Kind", parse.GetValue(Engine));
        if (parse.GetValue(SparkRemote) is { } remote)
        {
            result["Engine:SparkRemote"] = remote;
            // An address given on the command line means "run there"; an explicit --engine still wins.
            if (parse.GetValue(Engine) is null) result["Engine:Kind"] = "spark";
        }
        return result;
    }

    public JobSettings Load(ParseResult parse) => SettingsLoader.Load(parse.GetValue(Config), Overrides(parse));
}
