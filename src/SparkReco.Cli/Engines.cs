using Microsoft.Extensions.Logging;
using SparkReco.Core.Configuration;
using SparkReco.Core.Engine;
using SparkReco.Core.Errors;
using SparkReco.Core.Sql;
using SparkReco.Engine.DuckDb;
using SparkReco.Engine.Spark;
using SparkReco.Jobs.Running;

namespace SparkReco.Cli;

/// <summary>The one place that maps Engine:Kind to an engine; engines never know about each other.</summary>
public static class Engines
{
    public static EngineFactory Factory(ILoggerFactory loggers) => async (settings, ct) => settings.Kind switch
    {
        "duckdb" => await DuckDbEngine.OpenAsync(settings, loggers.CreateLogger("SparkReco.Engine.DuckDb"), ct),
        "spark" => await SparkConnectEngine.OpenAsync(SparkOptions(settings, loggers), ct),
        _ => throw new ConfigurationException($"setting 'Engine:Kind' has value '{settings.Kind}'; expected one of {string.Join(", ", EngineSettings.Kinds)}."),
    };

    /// <summary>The Spark engine's options from Engine:SparkRemote and the environment (the token); a missing address names the setting.</summary>
    public static SparkConnectOptions SparkOptions(EngineSettings settings, ILoggerFactory loggers, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (string.IsNullOrWhiteSpace(settings.SparkRemote))
            throw new ConfigurationException(
                "setting 'Engine:SparkRemote' is empty, but Engine:Kind is 'spark': give the Spark Connect server's address with --spark-remote sc://host:15002 " +
                "or Engine:SparkRemote in the config file (see conf/spark.json).");
        return new SparkConnectOptions(SparkRemote.Parse(settings.SparkRemote, "Engine:SparkRemote", environment))
        {
            Logger = loggers.CreateLogger("SparkReco.Engine.Spark"),
        };
    }

    public static ISqlDialect Dialect(string kind) => kind switch
    {
        "duckdb" => DuckDbDialect.Instance,
        "spark" => SparkDialect.Instance,
        _ => throw new ConfigurationException($"setting 'Engine:Kind' has value '{kind}'; expected one of {string.Join(", ", EngineSettings.Kinds)}."),
    };
}
