using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace SparkReco.Cli;

/// <summary>Structured log lines on stderr (stdout is kept for command output such as <c>plan</c>).</summary>
public static class ConsoleLogging
{
    public static ILoggerFactory Create(bool verbose, bool quiet) =>
        LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(verbose ? LogLevel.Debug : quiet ? LogLevel.Warning : LogLevel.Information);
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.UseUtcTimestamp = true;
                o.ColorBehavior = Console.IsErrorRedirected ? LoggerColorBehavior.Disabled : LoggerColorBehavior.Default;
            });
            builder.AddFilter("Microsoft", LogLevel.Warning);
            builder.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        });
}
