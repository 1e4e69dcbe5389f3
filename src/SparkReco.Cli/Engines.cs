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
        "spark" => throw new ConfigurationException(
            "setting 'Engine:Kind' is 'spark', but this build has no Spark Connect client yet; `sparkreco plan --engine spark` prints the job in Spark SQL, and runs use duckdb."),
        _ => throw new ConfigurationException($"setting 'Engine:Kind' has value '{settings.Kind}'; expected one of {string.Join(", ", EngineSettings.Kinds)}."),
    };

    public static ISqlDialect Dialect(string kind) => kind switch
    {
        "duckdb" => DuckDbDialect.Instance,
        "spark" => SparkDialect.Instance,
        _ => throw new ConfigurationException($"setting 'Engine:Kind' has value '{kind}'; expected one of {string.Join(", ", EngineSettings.Kinds)}."),
    };
}
