using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace SparkReco.Cli;

/// <summary>Structured log lines on stderr (stdout is kept for command output such as <c>plan</c>).</summary>
public static class ConsoleLogging
{
    public const string TextFormat = "text";
    public const string JsonFormat = "json";

    // The format and run id of this process's logger, so the one-line errors Program writes outside any logger
    // (config errors, failed stages) come out in the same format: a log shipper must be able to parse every line.
    private static string? s_jsonRunId;

    /// <param name="format"><see cref="TextFormat"/> (human lines) or <see cref="JsonFormat"/> (one JSON object per line).</param>
    /// <param name="runId">Written on every JSON line, so a log shipper can group a run's lines.</param>
    public static ILoggerFactory Create(bool verbose, bool quiet, string format = TextFormat, string? runId = null)
    {
        var json = format == JsonFormat;
        s_jsonRunId = json ? runId ?? "" : null;
        return LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(verbose ? LogLevel.Debug : quiet ? LogLevel.Warning : LogLevel.Information);
            if (json)
            {
                builder.AddConsole(o => o.FormatterName = RunJsonFormatter.FormatterName)
                    .AddConsoleFormatter<RunJsonFormatter, RunJsonFormatterOptions>(o => o.RunId = runId);
            }
            else
            {
                builder.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                    o.UseUtcTimestamp = true;
                    o.ColorBehavior = Console.IsErrorRedirected ? LoggerColorBehavior.Disabled : LoggerColorBehavior.Default;
                });
            }
            builder.AddFilter("Microsoft", LogLevel.Warning);
            builder.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        });
    }

    /// <summary>An error line for stderr: as is, or as a JSON log line when this process logs JSON.</summary>
    public static string ErrorLine(string message) =>
        s_jsonRunId is { } runId ? RunJsonFormatter.Line(DateTime.UtcNow, LogLevel.Error, "SparkReco", message, runId, fields: null, exception: null) : message;
}

/// <summary>Options of <see cref="RunJsonFormatter"/>: the run id every line carries.</summary>
public sealed class RunJsonFormatterOptions : ConsoleFormatterOptions
{
    public string? RunId { get; set; }
}

/// <summary>
/// One JSON object per line for log shippers: timestamp (UTC), level, category, message, run_id, the message's structured
/// fields and the exception. The built-in JSON formatter nests these differently and has no place for the run id.
/// </summary>
public sealed class RunJsonFormatter : ConsoleFormatter
{
    public const string FormatterName = "sparkreco-json";
    private readonly IOptionsMonitor<RunJsonFormatterOptions> _options;

    public RunJsonFormatter(IOptionsMonitor<RunJsonFormatterOptions> options) : base(FormatterName) => _options = options;

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        ArgumentNullException.ThrowIfNull(textWriter);
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception) ?? "";
        var fields = logEntry.State as IReadOnlyList<KeyValuePair<string, object?>>;
        textWriter.Write(Line(DateTime.UtcNow, logEntry.LogLevel, logEntry.Category, message, _options.CurrentValue.RunId ?? "", fields, logEntry.Exception));
        textWriter.Write('\n');
    }

    /// <summary>The JSON object of one log line (no line break; messages with line breaks stay on one line, escaped).</summary>
    public static string Line(DateTime timestamp, LogLevel level, string category, string message, string runId,
        IReadOnlyList<KeyValuePair<string, object?>>? fields, Exception? exception)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("timestamp", timestamp.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
            json.WriteString("level", level.ToString().ToLowerInvariant());
            json.WriteString("category", category);
            json.WriteString("message", message);
            json.WriteString("run_id", runId);
            var named = fields?.Where(f => f.Key != "{OriginalFormat}").ToList();
            if (named is { Count: > 0 })
            {
                json.WriteStartObject("fields");
                foreach (var (key, value) in named) json.WriteString(key, Text(value));
                json.WriteEndObject();
            }
            if (exception is not null) json.WriteString("exception", exception.ToString());
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string? Text(object? value) => value switch
    {
        null => null,
        DateTime t => t.ToString("O", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
