using System.Text.RegularExpressions;

namespace SparkReco.Core.Engine;

/// <summary>Tells local paths from data-lake URLs (s3a://, abfss://, gs://, hdfs://, …), for inputs and outputs alike.</summary>
public static partial class LakePaths
{
    /// <summary>The scheme of a URL such as s3a://bucket/events (lower case), or null for a plain path or a file:// URL (both local).</summary>
    public static string? RemoteScheme(string? path)
    {
        if (path is null) return null;
        var scheme = Scheme().Match(path);
        if (!scheme.Success || scheme.Groups[1].Value.Equals("file", StringComparison.OrdinalIgnoreCase)) return null;
        return scheme.Groups[1].Value.ToLowerInvariant();
    }

    public static bool IsRemote(string? path) => RemoteScheme(path) is not null;

    /// <summary>A path below a lake URL, joined with '/' whatever this machine's separator.</summary>
    public static string Join(string url, string name)
    {
        ArgumentNullException.ThrowIfNull(url);
        return url.TrimEnd('/') + "/" + name;
    }

    [GeneratedRegex("^([A-Za-z][A-Za-z0-9+.-]+)://")]
    private static partial Regex Scheme();
}
