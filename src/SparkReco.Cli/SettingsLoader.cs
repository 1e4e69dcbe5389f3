using System.Text.Json;
using Microsoft.Extensions.Configuration;
using SparkReco.Core.Configuration;
using SparkReco.Core.Errors;

namespace SparkReco.Cli;

/// <summary>
/// Builds the effective configuration: JSON file &lt; environment (SPARKRECO__Section__Key) &lt; command line.
/// Relative paths in the JSON file are relative to the file's folder, so a scheduler may start the job from any working
/// directory; relative paths given in the environment or on the command line are relative to the working directory,
/// as a shell user expects.
/// </summary>
public static class SettingsLoader
{
    public const string EnvironmentPrefix = "SPARKRECO__";

    /// <summary>The settings that name a file or folder.</summary>
    public static readonly string[] PathSettings = ["Input:Events", "Input:Items", "Input:Follows", "Output:Path", "Engine:TempDirectory", "Evaluation:TestEvents"];

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
            builder.AddInMemoryCollection(ResolvedPaths(full));
        }
        builder.AddEnvironmentVariables(EnvironmentPrefix);
        builder.AddInMemoryCollection(commandLine);
        return builder.Build();
    }

    /// <summary>The file's relative path settings, made absolute against the file's folder (URIs such as s3://… are left alone).</summary>
    private static Dictionary<string, string?> ResolvedPaths(string configFile)
    {
        var file = new ConfigurationBuilder().AddJsonFile(configFile, optional: false, reloadOnChange: false).Build();
        var folder = Path.GetDirectoryName(configFile)!;
        var resolved = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var key in PathSettings)
        {
            var value = file[key];
            if (string.IsNullOrWhiteSpace(value) || value.Contains("://", StringComparison.Ordinal) || Path.IsPathRooted(value)) continue;
            resolved[key] = Path.GetFullPath(Path.Combine(folder, value));
        }
        return resolved;
    }

    public static JobSettings Load(string? configFile, IReadOnlyDictionary<string, string?> commandLine) =>
        JobSettings.Read(Build(configFile, commandLine));
}
