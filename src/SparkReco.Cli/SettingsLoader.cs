using System.Text.Json;
using Microsoft.Extensions.Configuration;
using SparkReco.Core.Configuration;
using SparkReco.Core.Errors;

namespace SparkReco.Cli;

/// <summary>
/// Builds the effective configuration: JSON file &lt; environment (SPARKRECO__Section__Key) &lt; command line.
/// </summary>
public static class SettingsLoader
{
    public const string EnvironmentPrefix = "SPARKRECO__";

    public static IConfiguration Build(string? configFile, IReadOnlyDictionary<string, string?> commandLine)
    {
        var builder = new ConfigurationBuilder();
        if (configFile is not null)
        {
            var full = Path.GetFullPath(configFile);
            if (!File.Exists(full))
                throw new ConfigurationException($"config file '{configFile}' does not exist; pass an existing file with --config (see conf/local.json).");
            try
            {
                // Parse once here so a syntax error names the file and line instead of a provider stack trace.
                using var _ = JsonDocument.Parse(File.ReadAllText(full), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            }
            catch (JsonException e)
            {
                throw new ConfigurationException($"config file '{configFile}' is not valid JSON at line {e.LineNumber + 1}, position {e.BytePositionInLine + 1}: {e.Message.Split(" Path:")[0]}", e);
            }
            builder.AddJsonFile(full, optional: false, reloadOnChange: false);
        }
        builder.AddEnvironmentVariables(EnvironmentPrefix);
        builder.AddInMemoryCollection(commandLine);
        return builder.Build();
    }

    public static JobSettings Load(string? configFile, IReadOnlyDictionary<string, string?> commandLine) =>
        JobSettings.Read(Build(configFile, commandLine));
}
